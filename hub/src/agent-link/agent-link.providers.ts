import { ClusterCapabilitiesService, CapabilityRestagingService } from '../clusters/cluster-capabilities.service';
import { AgentMessages } from './agent-messages.service';
import { NatsInbox } from './nats-inbox';
import { NatsLink } from './nats-link.service';
import { NatsTrust } from '../nats-trust/nats-trust.service';

/** Agent-link services beyond the gRPC server: shared message handling, the NATS JetStream link and its identities, the capabilities agents report. */
export const AGENT_LINK_PROVIDERS = [AgentMessages, NatsInbox, NatsLink, NatsTrust, ClusterCapabilitiesService, CapabilityRestagingService];
