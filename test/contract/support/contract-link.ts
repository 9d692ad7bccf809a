import { systemClock } from '../../../agent/src/clock.js';
import { GrpcHubLink } from '../../../agent/src/hub-link/grpc-hub-link.js';
import type { HubLink, HubLinkHandler } from '../../../agent/src/hub-link/hub-link.js';
import { NatsHubLink } from '../../../agent/src/hub-link/nats-hub-link.js';
import type { Logger } from '../../../agent/src/log.js';
import type { DriverCapabilities } from '../../../agent/src/driver/cluster-driver.js';
import { NATS_PASSWORDS } from '../../harness/nats.js';

/** Where a contract test's agent reaches the hub: its gRPC address and CA, or a nats-server. */
export interface ContractEndpoints {
  /** host:port of the hub's gRPC server (or a proxy in front of it). */
  readonly grpcAddress: string;
  readonly caPem: string;
  /** host:port of the nats-server (or a proxy in front of it). */
  readonly natsAddress: string;
}

/** The credential an agent of a contract test keeps between its links (gRPC): the bootstrap token, then what the hub issued. */
export interface ContractCredential {
  bootstrapToken: string;
  issued: string | undefined;
}

export interface ContractLinkOptions {
  readonly transport: 'grpc' | 'nats';
  readonly endpoints: ContractEndpoints;
  /** A cluster of NATS_PASSWORDS (the documented server's users). */
  readonly cluster: keyof typeof NATS_PASSWORDS;
  readonly credential: ContractCredential;
  readonly handler: HubLinkHandler;
  readonly log: Logger;
  readonly capabilities?: () => DriverCapabilities;
}

/**
 * The agent's own link (the production GrpcHubLink or NatsHubLink), set up as a contract test's agent
 * runs it: fast reconnects (100 ms to 1 s), the system clock, and over gRPC the credential kept in
 * `credential`. Not started: the caller starts it and stops it.
 */
export function contractHubLink(options: ContractLinkOptions): HubLink {
  const { endpoints, credential } = options;
  const common = {
    clusterName: options.cluster,
    agentVersion: 'contract',
    handler: options.handler,
    clock: systemClock,
    random01: Math.random,
    log: options.log,
    reconnect: { baseMs: 100, maxMs: 1000 },
    ...(options.capabilities ? { capabilities: options.capabilities } : {}),
  };
  if (options.transport === 'grpc') {
    return new GrpcHubLink({
      ...common,
      address: endpoints.grpcAddress,
      security: { kind: 'tls', caPem: endpoints.caPem },
      storedCredential: credential.issued,
      bootstrapToken: credential.bootstrapToken,
      credentials: {
        write: async (issued) => {
          credential.issued = issued;
        },
      },
      welcomeTimeoutMs: 5000,
    });
  }
  return new NatsHubLink({
    ...common,
    servers: [`nats://${endpoints.natsAddress}`],
    auth: { kind: 'password', user: options.cluster, password: NATS_PASSWORDS[options.cluster] },
    kvBucket: 'flotilla-desired',
  });
}
