/**
 * Simulated agents for S2: the agent's real hub-link classes (GrpcHubLink, NatsHubLink: real streams or
 * real NATS connections, real protobuf), one connection each, many per process, with a minimal handler
 * that decides with the agent's own decision function, holds Apps in memory and timestamps its acks.
 */
import { systemClock } from '../../../agent/src/clock.js';
import { decideDesiredApp, decideRemoveApp, inventoryOf, type AckContent, type DesiredEntry, type HeldAppRef, type IncomingDesiredApp, type IncomingRemoveApp } from '../../../agent/src/core/desired-state.js';
import type { ReportContent } from '../../../agent/src/core/health/index.js';
import { GrpcHubLink } from '../../../agent/src/hub-link/grpc-hub-link.js';
import type { HubLink, HubLinkHandler } from '../../../agent/src/hub-link/hub-link.js';
import { NatsHubLink } from '../../../agent/src/hub-link/nats-hub-link.js';
import { silentLogger } from '../../../agent/src/log.js';

/** An agent that acks and never applies: what S2 measures ends at the ack. */
export class AckingAgent implements HubLinkHandler {
  readonly held = new Map<string, DesiredEntry>();
  /** performance.now() of the first accepted ack of each revision. */
  readonly ackedAt = new Map<string, number>();
  /** The first DesiredApp received (its bytes feed the baselines). */
  firstDesired: IncomingDesiredApp | undefined;

  inventory(): readonly HeldAppRef[] {
    return inventoryOf(this.held.values());
  }

  async handleDesiredApp(message: IncomingDesiredApp, sendAck: (ack: AckContent) => void): Promise<void> {
    this.firstDesired ??= message;
    const decision = decideDesiredApp(this.held.get(message.appName), message);
    if (decision.kind === 'ignore') return;
    if (decision.kind === 'accept') this.held.set(message.appName, decision.entry);
    sendAck(decision.ack);
    if (decision.ack.accepted && !this.ackedAt.has(message.revision)) this.ackedAt.set(message.revision, performance.now());
  }

  async handleRemoveApp(message: IncomingRemoveApp, sendAck: (ack: AckContent) => void): Promise<void> {
    const decision = decideRemoveApp(this.held.get(message.appName), message, Date.now());
    if (decision.kind === 'ignore') return;
    if (decision.kind === 'remove') this.held.set(message.appName, decision.entry);
    sendAck(decision.ack);
  }

  currentReports(): readonly ReportContent[] {
    return [];
  }

  onReport(_listener: (report: ReportContent) => void): () => void {
    return () => undefined;
  }
}

export type Transport = 'grpc' | 'nats';

/** Where and as whom a simulated agent connects. */
export interface AgentTarget {
  readonly transport: Transport;
  /** gRPC `host:port`, or the NATS URL. */
  readonly address: string;
  /** gRPC: the hub's agent-link CA (`hub.caBundle`), which the link verifies the hub against. */
  readonly caPem?: string;
  readonly cluster: string;
  /** gRPC: bootstrap token (first connect) and the credential kept from Welcome afterwards. */
  bootstrapToken?: string;
  credential?: string;
  /** NATS: the cluster user's password. */
  readonly natsPassword?: string;
}

/** Reconnect delays of every simulated agent (and of the raw clients that stand in for them). */
export const RECONNECT = { baseMs: 500, maxMs: 5_000 };

/** Starts one real hub link for `target` driving `agent`. */
export function startLink(target: AgentTarget, agent: AckingAgent): HubLink {
  const common = { clusterName: target.cluster, agentVersion: 'bench', handler: agent, clock: systemClock, random01: Math.random, log: silentLogger, reconnect: RECONNECT };
  const link =
    target.transport === 'grpc'
      ? new GrpcHubLink({
          ...common,
          address: target.address,
          security: target.caPem !== undefined ? { kind: 'tls', caPem: target.caPem } : { kind: 'insecure' },
          storedCredential: target.credential,
          bootstrapToken: target.bootstrapToken,
          credentials: {
            write: async (issued) => {
              target.credential = issued;
            },
          },
          welcomeTimeoutMs: 60_000,
        })
      : new NatsHubLink({
          ...common,
          servers: [target.address],
          auth: { kind: 'password', user: target.cluster, password: target.natsPassword ?? '' },
          kvBucket: 'flotilla-desired',
          connectTimeoutMs: 60_000,
        });
  link.start();
  return link;
}
