import * as grpc from '@grpc/grpc-js';
import type { ConnectRequest, ConnectResponse } from '@flotilla/proto';
import { GRPC_CHANNEL_OPTIONS, agentServiceDefinition } from '@flotilla/proto/grpc';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../clock';
import { ClustersService } from '../clusters/clusters.service';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { Metrics } from '../observability/metrics';
import { AgentCertificates } from '../trust/agent-certificates.service';
import { serverRenewalReason, trustKey } from '../core/tls/ca-rotation';
import { AgentLinkCa, type AgentLinkServerIdentity } from '../trust/agent-link-ca.service';
import { AgentMessages } from './agent-messages.service';
import { AgentSessions } from './agent-sessions';
import { AgentStream } from './agent-stream';
import { OutboxRelay } from './outbox-relay.service';

const SHUTDOWN_GRACE_MS = 3000;
/** How often a replica re-reads the agent-link CAs (another replica may have rotated them) and checks its server certificate. */
const TRUST_REFRESH_MS = 2000;

/** The gRPC server agents connect to (`flotilla.agent.v1.AgentService`). */
@Injectable()
export class AgentLinkServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AgentLink');
  private server: grpc.Server | undefined;
  private boundPort = 0;
  private provider: MutableCertificateProvider | undefined;
  private served: AgentLinkServerIdentity | undefined;
  private trustKey = '';
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

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
          ca: this.config.agentLinkTls.insecure ? undefined : this.ca,
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
    if (this.provider) this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    if (this.stopped) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshing = this.refreshTrust()
        .catch((error: unknown) => this.log.warn(`could not refresh the agent-link CAs: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          this.refreshing = undefined;
          this.scheduleRefresh();
        });
    }, TRUST_REFRESH_MS);
    this.refreshTimer.unref();
  }

  /**
   * Follows the CAs without a restart: when a rotation starts or ends (on any replica), the TLS server
   * trusts the new set of CAs, every connected agent is told (and asked to renew a certificate from a
   * retiring CA), and this replica's server certificate is re-issued when another CA must sign it or
   * two thirds of its lifetime have passed. Connections already open keep their handshake.
   */
  private async refreshTrust(): Promise<void> {
    const provider = this.provider;
    if (!provider || !this.served) return;
    await this.ca.refresh();
    const now = this.clock.now();
    const trust = await this.ca.trust(now);
    const key = trustKey(trust);
    if (key !== this.trustKey) {
      this.trustKey = key;
      provider.updateCa(trust.bundlePem);
      const sessions = this.sessions.list();
      this.log.log(`agent-link CAs changed (${trust.trusted.length} trusted${trust.retiresAt ? `, the previous one until ${trust.retiresAt.toISOString()}` : ''}); telling ${sessions.length} connected agent(s)`);
      for (const session of sessions) session.trustChanged?.(trust);
    }
    const reason = serverRenewalReason(this.served, trust, now);
    if (reason) {
      const identity = await this.ca.issueServerIdentity();
      this.served = identity;
      provider.updateIdentity(identity.certificatePem, identity.privateKeyPem);
      this.log.log(`re-issued the agent link's server certificate (${reason === 'signer-changed' ? 'another CA signs server certificates now' : 'two thirds of its lifetime passed'}) without a restart`);
    }
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
    const trust = await this.ca.trust();
    this.served = identity;
    this.trustKey = trustKey(trust);
    this.provider = new MutableCertificateProvider(trust.bundlePem, identity.certificatePem, identity.privateKeyPem);
    return grpc.experimental.createCertificateProviderServerCredentials(this.provider, this.provider, false);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
    await this.refreshing;
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
 * The trusted CAs and server identity of this replica, for grpc-js's certificate-provider credentials
 * (the only server credentials that ask for a client certificate without requiring one). Updates go
 * to every registered listener: new connections use them, open ones keep their handshake.
 */
class MutableCertificateProvider implements grpc.experimental.CertificateProvider {
  private ca: grpc.experimental.CaCertificateUpdate;
  private identity: grpc.experimental.IdentityCertificateUpdate;
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();

  constructor(caPem: string, certificatePem: string, privateKeyPem: string) {
    this.ca = { caCertificate: Buffer.from(caPem) };
    this.identity = { certificate: Buffer.from(certificatePem), privateKey: Buffer.from(privateKeyPem) };
  }

  updateCa(caPem: string): void {
    this.ca = { caCertificate: Buffer.from(caPem) };
    for (const listener of this.caListeners) listener(this.ca);
  }

  updateIdentity(certificatePem: string, privateKeyPem: string): void {
    this.identity = { certificate: Buffer.from(certificatePem), privateKey: Buffer.from(privateKeyPem) };
    for (const listener of this.identityListeners) listener(this.identity);
  }

  // Answered after the caller returns: grpc-js registers its server's watcher only after adding these
  // listeners, so a synchronous answer would be lost and every connection dropped.
  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => listener(this.ca));
  }

  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => listener(this.identity));
  }

  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }
}
