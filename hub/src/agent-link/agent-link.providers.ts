import { AgentMessages } from './agent-messages.service';
import { NatsInbox } from './nats-inbox';
import { NatsLink } from './nats-link.service';
import { NatsTrust } from '../nats-trust/nats-trust.service';

/** Agent-link services beyond the gRPC server: shared message handling, the NATS JetStream link and its identities. */
export const AGENT_LINK_PROVIDERS = [AgentMessages, NatsInbox, NatsLink, NatsTrust];
