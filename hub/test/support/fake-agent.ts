import * as grpc from '@grpc/grpc-js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  ConnectRequestSchema,
  Health,
  PROTOCOL_VERSION,
  SyncStatus,
  create,
  type ConnectRequest,
  type ConnectResponse,
  type DesiredApp,
} from '@flotilla/proto';
import { AgentServiceClient, GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';

/** The agent link of a running hub (a `RunningHub` is one): its port, and the CA its certificate is signed by. */
export interface AgentLinkTarget {
  readonly grpcPort: number;
  readonly caBundle: string;
  /** The hub serves plaintext (FLOTILLA_GRPC_INSECURE=true). */
  readonly agentLinkInsecure: boolean;
}

/** A client certificate and its key (PEM) for the mutual-TLS agent link. */
export interface ClientCertificate {
  readonly keyPem: string;
  readonly certificatePem: string;
}

/**
 * A scripted agent speaking the real protocol over real gRPC, for hub tests: it records what the hub
 * sends and answers only when told to. It dials 127.0.0.1 over TLS and verifies the hub against the
 * hub's agent-link CA, as a real agent does; with `certificate` it presents that client certificate
 * (the secret may then be empty), and `connect(..., csrDer)` enrolls one with a bootstrap token.
 */
export class FakeAgent {
  readonly received: ConnectResponse[] = [];
  status: grpc.StatusObject | undefined;
  /** When the stream ended (Date.now()), for tests that bound how fast the hub cuts an agent off. */
  endedAt: number | undefined;
  private readonly client: AgentServiceClient;
  private stream: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> | undefined;

  constructor(
    hub: AgentLinkTarget,
    private readonly clusterName: string,
    private readonly secret: string,
    certificate?: ClientCertificate,
  ) {
    const credentials = hub.agentLinkInsecure
      ? grpc.credentials.createInsecure()
      : certificate
        ? grpc.credentials.createSsl(Buffer.from(hub.caBundle), Buffer.from(certificate.keyPem), Buffer.from(certificate.certificatePem))
        : grpc.credentials.createSsl(Buffer.from(hub.caBundle));
    this.client = new AgentServiceClient(`127.0.0.1:${hub.grpcPort}`, credentials, GRPC_CHANNEL_OPTIONS);
  }

  /** Opens the stream and sends Hello with the given inventory (and, when given, the cluster's capabilities). */
  connect(
    inventory: { appName: string; revision: string; generation: bigint }[] = [],
    protocolVersion = PROTOCOL_VERSION,
    csrDer: Uint8Array = new Uint8Array(),
    capabilities?: { kubernetesVersion: string; apiVersions: string[]; discoveryError?: string },
  ): void {
    const metadata = new grpc.Metadata();
    if (this.secret) metadata.set('authorization', `Bearer ${this.secret}`);
    const stream = this.client.connect(metadata);
    stream.on('data', (message: ConnectResponse) => this.received.push(message));
    stream.on('status', (status: grpc.StatusObject) => {
      this.status = status;
      this.endedAt = Date.now();
    });
    stream.on('error', () => undefined);
    this.stream = stream;
    this.send({ case: 'hello', value: { protocolVersion, clusterName: this.clusterName, agentVersion: 'fake', inventory: { apps: inventory }, csrDer, capabilities } });
  }

  send(message: NonNullable<MessageInitShape<typeof ConnectRequestSchema>['message']>): void {
    this.stream?.write(create(ConnectRequestSchema, { message }));
  }

  desired(): DesiredApp[] {
    return this.received.flatMap((m) => (m.message.case === 'desiredApp' ? [m.message.value] : []));
  }

  removals(): string[] {
    return this.received.flatMap((m) => (m.message.case === 'removeApp' ? [m.message.value.appName] : []));
  }

  welcomeCredential(): string | undefined {
    for (const m of this.received) if (m.message.case === 'welcome') return m.message.value.agentCredential;
    return undefined;
  }

  /** The client certificate (PEM) handed out in Welcome or in the latest CertificateRenewed, if any. */
  clientCertificate(): string | undefined {
    let pem: string | undefined;
    for (const m of this.received) {
      if (m.message.case === 'welcome' && m.message.value.clientCertificatePem) pem = m.message.value.clientCertificatePem;
      if (m.message.case === 'certificateRenewed') pem = m.message.value.clientCertificatePem;
    }
    return pem;
  }

  welcomed(): boolean {
    return this.received.some((m) => m.message.case === 'welcome');
  }

  refusal(): string | undefined {
    for (const m of this.received) if (m.message.case === 'refusal') return m.message.value.code;
    return undefined;
  }

  /** Acks and reports an App at a health, as a real agent would after applying it. */
  applyAndReport(app: DesiredApp, health: Health): void {
    this.send({ case: 'ack', value: { appName: app.appName, revision: app.revision, generation: app.generation, accepted: true, error: '' } });
    this.send({
      case: 'report',
      value: {
        appName: app.appName,
        revision: app.revision,
        generation: app.generation,
        health,
        syncStatus: SyncStatus.SYNCED,
        message: '',
        resources: [],
        resourcesTruncated: false,
        observedAtUnixMs: BigInt(Date.now()),
      },
    });
  }

  close(): void {
    this.stream?.end();
    this.stream?.cancel();
    this.client.close();
  }
}
