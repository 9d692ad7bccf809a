import { AgentMessages } from './agent-messages.service';
import { NatsInbox } from './nats-inbox';
import { NatsLink } from './nats-link.service';

/** Agent-link services beyond the gRPC server: shared message handling and the NATS JetStream link. */
export const AGENT_LINK_PROVIDERS = [AgentMessages, NatsInbox, NatsLink];
