import * as grpc from '@grpc/grpc-js';
import type { ConnectRequest, ConnectResponse } from '@flotilla/proto';
import { GRPC_CHANNEL_OPTIONS, agentServiceDefinition } from '@flotilla/proto/grpc';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../clock';
import { ClustersService } from '../clusters/clusters.service';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { Metrics } from '../observability/metrics';
import { AgentCertificates } from '../trust/agent-certificates.service';
import { AgentLinkCa } from '../trust/agent-link-ca.service';
import { AgentMessages } from './agent-messages.service';
import { AgentSessions } from './agent-sessions';
import { AgentStream } from './agent-stream';
import { OutboxRelay } from './outbox-relay.service';

const SHUTDOWN_GRACE_MS = 3000;

/** The gRPC server agents connect to (`flotilla.agent.v1.AgentService`). */
@Injectable()
export class AgentLinkServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AgentLink');
  private server: grpc.Server | undefined;
  private boundPort = 0;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly clusters: ClustersService,
    private readonly messages: AgentMessages,
    private readonly relay: OutboxRelay,
    private readonly sessions: AgentSessions,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly ca: AgentLinkCa,
    private readonly certificates: AgentCertificates,
  ) {}

  /** The port the server listens on (useful when configured with port 0). */
  get port(): number {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = new grpc.Server({
      ...GRPC_CHANNEL_OPTIONS,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    });
    server.addService(agentServiceDefinition, {
      connect: (call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) => {
        new AgentStream(call, {
          config: this.config,
          clusters: this.clusters,
          certificates: this.certificates,
          messages: this.messages,
          relay: this.relay,
          sessions: this.sessions,
          metrics: this.metrics,
          log: this.log,
          now: () => this.clock.now(),
        });
      },
    });
    const credentials = await this.credentials();
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.config.grpcHost}:${this.config.grpcPort}`, credentials, (error, port) => (error ? reject(error) : resolve(port))),
    );
    this.server = server;
    this.log.log(`agent link (gRPC${this.config.agentLinkTls.insecure ? ', PLAINTEXT' : ' over TLS'}) listening on ${this.config.grpcHost}:${this.boundPort}`);
  }

  /**
   * TLS with a certificate this replica issues itself from the agent-link CA. Client certificates are
   * asked for but not required: an agent enrolling with a bootstrap token has none yet, nor has an
   * agent of an earlier version (bearer credential). grpc-js exposes a client certificate only when it
   * verified against the CA; AgentStream then checks it again, with its cluster and revocation.
   */
  private async credentials(): Promise<grpc.ServerCredentials> {
    if (this.config.agentLinkTls.insecure) {
      this.log.warn('FLOTILLA_GRPC_INSECURE=true: the agent link serves PLAINTEXT; bootstrap tokens and agent credentials cross the network unencrypted. For local development only.');
      return grpc.ServerCredentials.createInsecure();
    }
    const identity = await this.ca.issueServerIdentity();
    const provider = new StaticCertificateProvider(identity.caPem, identity.certificatePem, identity.privateKeyPem);
    return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.sessions.closeAll('hub shutting down');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}

/**
 * The CA bundle and server identity of this replica, for grpc-js's certificate-provider credentials
 * (the only server credentials that ask for a client certificate without requiring one).
 */
class StaticCertificateProvider implements grpc.experimental.CertificateProvider {
  private readonly ca: grpc.experimental.CaCertificateUpdate;
  private readonly identity: grpc.experimental.IdentityCertificateUpdate;

  constructor(caPem: string, certificatePem: string, privateKeyPem: string) {
    this.ca = { caCertificate: Buffer.from(caPem) };
    this.identity = { certificate: Buffer.from(certificatePem), privateKey: Buffer.from(privateKeyPem) };
  }

  // Answered after the caller returns: grpc-js registers its server's watcher only after adding these
  // listeners, so a synchronous answer would be lost and every connection dropped.
  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    queueMicrotask(() => listener(this.ca));
  }

  removeCaCertificateListener(): void {}

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    queueMicrotask(() => listener(this.identity));
  }

  removeIdentityCertificateListener(): void {}
}
