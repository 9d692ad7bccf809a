import * as grpc from '@grpc/grpc-js';
import { deliveryMessages, type ConnectRequest, type ConnectResponse, type Hello, type Inventory } from '@flotilla/proto';
import type { Logger } from '@nestjs/common';
import type { AgentIdentity, ClustersService } from '../clusters/clusters.service';
import type { HubConfig } from '../config/hub-config';
import { FlotillaError } from '../errors';
import type { Metrics } from '../observability/metrics';
import type { AgentCertificates } from '../trust/agent-certificates.service';
import type { AgentLinkCa, AgentLinkTrust } from '../trust/agent-link-ca.service';
import type { AgentMessages } from './agent-messages.service';
import type { AgentSession, AgentSessions } from './agent-sessions';
import type { OutboxRelay } from './outbox-relay.service';

/** What one stream needs from the hub. */
export interface AgentStreamDeps {
  readonly config: HubConfig;
  readonly clusters: ClustersService;
  readonly certificates: AgentCertificates;
  /** The agent-link CAs; undefined when the link serves plaintext. */
  readonly ca: AgentLinkCa | undefined;
  readonly messages: AgentMessages;
  readonly relay: OutboxRelay;
  readonly sessions: AgentSessions;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => Date;
}

type Call = grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>;

const HELLO_TIMEOUT_MS = 10_000;
/** Messages received but not yet processed; beyond this the agent is flooding and is cut off. */
const MAX_PENDING = 1000;

/**
 * One agent stream: waits for Hello, authenticates it, registers the session, resyncs, then handles
 * Acks, Reports, Heartbeats and Inventories in arrival order. Every way out ends in `close()`.
 */
export class AgentStream implements AgentSession {
  clusterId = '';
  clusterName = '';
  credentialId = '';
  /** The CA that signed the client certificate of this stream (undefined for a bearer credential). */
  private issuerFingerprint: string | undefined;
  private state: 'hello' | 'ready' | 'closed' = 'hello';
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private lastSeenWrite = 0;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    private readonly call: Call,
    private readonly deps: AgentStreamDeps,
  ) {
    this.helloTimer = setTimeout(() => this.refuse('HELLO_TIMEOUT', 'No Hello within 10 s.', true, grpc.status.DEADLINE_EXCEEDED), HELLO_TIMEOUT_MS);
    call.on('data', (message: ConnectRequest) => this.enqueue(message));
    call.on('end', () => this.close('agent ended the stream'));
    call.on('error', () => this.close('stream error'));
    call.on('cancelled', () => this.close('stream cancelled'));
  }

  /**
   * Writes a message; a DesiredApp with manifests over LIMITS.manifestChunkBytes goes as a header and
   * chunks, written back to back (nothing can come in between: the writes happen in one turn).
   */
  send(message: ConnectResponse): boolean {
    if (this.state === 'closed') return false;
    try {
      for (const part of deliveryMessages(message)) this.call.write(part);
      return true;
    } catch {
      // The peer went away between our check and the write; its next Hello resyncs it.
      this.close('write failed');
      return false;
    }
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.deps.log.debug?.(`stream of ${this.clusterName || 'unauthenticated agent'} closed: ${reason}`);
    try {
      this.call.end();
    } catch {
      // already ended by the peer
    }
    if (wasReady && this.deps.sessions.remove(this)) {
      this.deps.metrics.connectedAgents.set(this.deps.sessions.size);
      void this.deps.clusters.markDisconnected(this.clusterId).catch(() => undefined);
    }
  }

  revoke(reason: string): void {
    this.deps.log.log(`agent stream of ${this.clusterName} revoked: ${reason}`);
    this.refuse('UNAUTHENTICATED', 'The agent credential is not valid for this cluster.', false, grpc.status.UNAUTHENTICATED);
  }

  private enqueue(message: ConnectRequest): void {
    if (this.state === 'closed') return;
    if (++this.pending > MAX_PENDING) {
      this.refuse('FLOODING', `More than ${MAX_PENDING} messages are waiting; slow down.`, true, grpc.status.RESOURCE_EXHAUSTED);
      return;
    }
    this.chain = this.chain
      .then(() => (this.state === 'closed' ? undefined : this.handle(message)))
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.pending--);
  }

  private async handle(message: ConnectRequest): Promise<void> {
    const { case: kind, value } = message.message;
    if (this.state === 'hello') {
      if (kind !== 'hello') return this.refuse('HELLO_FIRST', 'The first message must be Hello.', false, grpc.status.FAILED_PRECONDITION);
      return this.hello(value);
    }
    switch (kind) {
      case 'ack':
        await this.deps.messages.recordAck(this.clusterId, value);
        return;
      case 'report':
        return this.deps.messages.recordReport(this.clusterId, value);
      case 'heartbeat':
        return this.touch();
      case 'inventory':
        await this.touch();
        return this.resync(value);
      case 'renewCertificate':
        return this.renewCertificate(value.csrDer);
      case 'hello':
        return this.refuse('HELLO_TWICE', 'Hello may be sent once per stream.', false, grpc.status.FAILED_PRECONDITION);
      default:
        return; // an unknown message from a newer agent: ignore it
    }
  }

  private async hello(hello: Hello): Promise<void> {
    clearTimeout(this.helloTimer);
    const refusal = this.deps.messages.helloRefusal(hello);
    if (refusal) return this.refuse(refusal.code, refusal.message, refusal.retryable, grpc.status.FAILED_PRECONDITION);
    const now = this.deps.now();
    const identity = await this.authenticate(hello, now).catch((error: unknown) => {
      if (error instanceof FlotillaError) return error;
      throw error;
    });
    if (identity instanceof FlotillaError && identity.code === 'INVALID_ARGUMENT') return this.refuse('INVALID_CSR', identity.message, false, grpc.status.INVALID_ARGUMENT);
    if (identity instanceof FlotillaError) return this.refuse('UNAUTHENTICATED', 'The agent credential is not valid for this cluster.', false, grpc.status.UNAUTHENTICATED);
    if (this.state === 'closed') return;
    this.clusterId = identity.clusterId;
    this.clusterName = identity.clusterName;
    this.credentialId = identity.credentialId;
    this.issuerFingerprint = identity.issuerFingerprint ?? identity.issuedCertificate?.issuerFingerprint;
    this.state = 'ready';
    // A re-installed agent enrolled: an older stream here holds a credential that was just revoked.
    // (Replicas elsewhere learn it from their credential check.)
    const reinstalled = (identity.replacedCredentials ?? 0) > 0;
    if (reinstalled) this.deps.log.log(`re-installed agent of ${this.clusterName} enrolled: ${identity.replacedCredentials} earlier credential(s) revoked`);
    this.deps.sessions.add(this, reinstalled ? 'a re-installed agent enrolled' : undefined);
    this.deps.metrics.connectedAgents.set(this.deps.sessions.size);
    // Deregistered between authentication and here: its credential is gone too.
    if (!(await this.deps.clusters.markConnected(this.clusterId, hello.agentVersion, now))) return this.revoke('the cluster is no longer registered');
    this.lastSeenWrite = now.getTime();
    await this.deps.messages.recordCapabilities(this.clusterId, this.clusterName, hello, now);
    const trust = await this.deps.ca?.trust(now);
    this.send(
      this.deps.messages.welcome(
        this.clusterName,
        identity.issuedCredential ?? '',
        identity.issuedCertificate,
        trust ? { caBundlePem: trust.bundlePem, renewCertificate: this.mustRenew(trust) } : undefined,
      ),
    );
    this.deps.log.log(`agent ${this.clusterName} connected (${hello.agentVersion || 'unknown version'})`);
    await this.resync(hello.inventory);
  }

  /**
   * A client certificate the TLS handshake verified against the agent-link CA authenticates the stream
   * (and then the bearer metadata is ignored); without one, the bearer token does (a bootstrap token,
   * with the Hello's CSR to enroll a certificate, or the credential of an agent without certificates).
   */
  private async authenticate(hello: Hello, now: Date): Promise<AgentIdentity> {
    const peer = this.call.getAuthContext()?.sslPeerCertificate;
    if (peer?.raw) return this.deps.certificates.authenticate(peer.raw, hello.clusterName, now);
    const header = this.call.metadata.get('authorization')[0];
    const secret = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    return this.deps.clusters.authenticateAgent(secret, hello.clusterName, now, hello.csrDer);
  }

  trustChanged(trust: AgentLinkTrust): void {
    if (this.state !== 'ready') return;
    if (this.issuerFingerprint !== undefined && !trust.trusted.some((ca) => ca.fingerprint === this.issuerFingerprint)) {
      return this.revoke("its certificate's CA is no longer trusted (a CA rotation ended)");
    }
    this.send(this.deps.messages.trustUpdate(trust.bundlePem, this.mustRenew(trust)));
  }

  /** A certificate from a CA other than the one signing client certificates now is renewed at once. */
  private mustRenew(trust: AgentLinkTrust): boolean {
    return this.issuerFingerprint !== undefined && this.issuerFingerprint !== trust.clientSigner.fingerprint;
  }

  /** Issues a new client certificate for this stream's cluster; the agent reconnects with it. */
  private async renewCertificate(csrDer: Uint8Array): Promise<void> {
    const renewed = await this.deps.certificates
      .renew({ clusterId: this.clusterId, clusterName: this.clusterName, credentialId: this.credentialId }, csrDer, this.deps.now())
      .catch((error: unknown) => {
        if (error instanceof FlotillaError) return error;
        throw error;
      });
    if (renewed instanceof FlotillaError && renewed.code === 'INVALID_ARGUMENT') return this.refuse('INVALID_CSR', renewed.message, false, grpc.status.INVALID_ARGUMENT);
    if (renewed instanceof FlotillaError) return this.revoke('its credential was revoked before the renewal');
    this.deps.log.log(`renewed the client certificate of ${this.clusterName}`);
    this.send(this.deps.messages.certificateRenewed(renewed));
  }

  /** Sends only what differs between what the hub released and what the agent holds. */
  private async resync(inventory: Inventory | undefined): Promise<void> {
    await this.deps.relay.discardForCluster(this.clusterId);
    const work = await this.deps.messages.resync(this.clusterId, inventory);
    for (const message of [...work.messages, ...work.unknown.map((u) => u.message)]) {
      if (this.send(message)) this.deps.metrics.deliveries.inc({ kind: message.message.case ?? 'unknown', cause: 'resync' });
    }
    const [first] = work.ignored;
    if (first) {
      // One line per resync, however many Apps: the inventory is the agent's to fill.
      this.deps.log.warn(`agent of ${this.clusterName} holds ${work.ignored.length} App(s) the hub leaves unanswered (first: ${first.appName.slice(0, 63)}: ${first.reason})`);
    }
    await this.deps.messages.forgetRemoved(this.clusterId, work.forget);
  }

  private async touch(): Promise<void> {
    const now = this.deps.now();
    // One write per half heartbeat interval is enough to keep `connected` fresh.
    if (now.getTime() - this.lastSeenWrite < (this.deps.config.heartbeatIntervalSeconds * 1000) / 2) return;
    this.lastSeenWrite = now.getTime();
    // No row: the cluster was deregistered, possibly through another replica. Cut the agent off.
    if (!(await this.deps.clusters.markSeen(this.clusterId, now))) this.revoke('the cluster is no longer registered');
  }

  private refuse(code: string, message: string, retryable: boolean, status: grpc.status): void {
    if (this.state === 'closed') return;
    this.deps.metrics.refusedStreams.inc({ reason: code });
    this.deps.log.warn(`refused agent stream${this.clusterName ? ` of ${this.clusterName}` : ''}: ${code}`);
    this.call.write(this.deps.messages.refusal(code, message, retryable));
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.call.emit('error', { code: status, details: message });
    if (wasReady && this.deps.sessions.remove(this)) void this.deps.clusters.markDisconnected(this.clusterId).catch(() => undefined);
  }

  private fail(error: unknown): void {
    this.deps.log.error(`agent stream of ${this.clusterName || 'unauthenticated agent'} failed: ${String(error)}`);
    this.refuse('INTERNAL', 'The hub could not process a message; reconnect.', true, grpc.status.UNAVAILABLE);
  }
}
