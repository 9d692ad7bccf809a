import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import {
  CertificateRenewedSchema,
  ConnectResponseSchema,
  PROTOCOL_VERSION,
  WelcomeSchema,
  create,
  type Ack,
  type ConnectRequest,
  type ConnectResponse,
  type Heartbeat,
  type Hello,
  type Inventory,
  type Report,
  type Welcome,
} from '@flotilla/proto';
import { agentServiceDefinition } from '@flotilla/proto/grpc';
import { makeTestPki, type TestPki } from './test-pki.js';

type ResponseMessage = Exclude<ConnectResponse['message'], { case: undefined }>;
type RequestCase = Exclude<ConnectRequest['message']['case'], undefined>;
type RequestValue<C extends RequestCase> = Extract<ConnectRequest['message'], { case: C }>['value'];

/** One agent stream as the fake hub sees it. */
export class FakeConnection {
  readonly received: ConnectRequest[] = [];
  ended = false;
  readonly #call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>;

  constructor(call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) {
    this.#call = call;
  }

  /** The client certificate the agent presented (TLS verified it against the hub's CA), if any. */
  get peerCertificate(): PeerCertificate | undefined {
    return this.#call.getAuthContext()?.sslPeerCertificate;
  }

  /** The bearer token the agent presented. */
  get token(): string | undefined {
    const value = this.#call.metadata.get('authorization')[0];
    return typeof value === 'string' ? value.replace(/^Bearer /, '') : undefined;
  }

  get hello(): Hello | undefined {
    return this.#all('hello')[0];
  }
  get acks(): Ack[] {
    return this.#all('ack');
  }
  get reports(): Report[] {
    return this.#all('report');
  }
  get heartbeats(): Heartbeat[] {
    return this.#all('heartbeat');
  }
  get inventories(): Inventory[] {
    return this.#all('inventory');
  }

  send(message: ResponseMessage): void {
    if (!this.ended) this.#call.write(create(ConnectResponseSchema, { message }));
  }

  /** Closes the stream from the hub's side with status OK. */
  end(): void {
    if (!this.ended) this.#call.end();
  }

  #all<C extends RequestCase>(kind: C): RequestValue<C>[] {
    return this.received.filter((request) => request.message.case === kind).map((request) => request.message.value as RequestValue<C>);
  }
}

/** Welcome fields a test may set. */
export type WelcomeFields = Partial<Pick<Welcome, 'protocolVersion' | 'clusterName' | 'agentCredential' | 'heartbeatIntervalSeconds' | 'inventoryIntervalSeconds'>>;

/** Settings of {@link FakeHub.start}. */
export interface FakeHubOptions {
  /** Port to bind on 127.0.0.1 (0 picks a free one). */
  readonly port?: number;
  /** Welcome to answer each Hello with; `undefined` welcomes with defaults, a function decides per stream. */
  readonly welcome?: (connection: FakeConnection, index: number) => WelcomeFields | 'none';
  /** The certificate to serve (default: one for localhost and 127.0.0.1 from a CA made once per process), or plaintext. */
  readonly tls?: TestPki | 'insecure';
  /**
   * Ask agents for client certificates (without requiring one), and sign the CSRs of Hello and
   * RenewCertificate with this function (DER request → PEM certificate).
   */
  readonly signCertificate?: (csrDer: Uint8Array) => string;
}

let sharedPki: TestPki | undefined;
/** The CA and server certificate fake hubs serve by default (made on first use). */
export function defaultPki(): TestPki {
  sharedPki ??= makeTestPki();
  return sharedPki;
}

/** A minimal hub over real gRPC that records what agents send and sends what a test asks. */
export class FakeHub {
  readonly connections: FakeConnection[];
  readonly #server: grpc.Server;
  readonly port: number;
  /** The CA an agent must trust to reach this hub; undefined when it serves plaintext. */
  readonly caPem: string | undefined;

  private constructor(server: grpc.Server, port: number, connections: FakeConnection[], caPem: string | undefined) {
    this.#server = server;
    this.port = port;
    this.connections = connections;
    this.caPem = caPem;
  }

  static async start(options: FakeHubOptions = {}): Promise<FakeHub> {
    const server = new grpc.Server();
    const connections: FakeConnection[] = [];
    const connect = (call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>): void => {
      const connection = new FakeConnection(call);
      const index = connections.push(connection) - 1;
      call.on('data', (request: ConnectRequest) => {
        connection.received.push(request);
        if (request.message.case === 'renewCertificate' && options.signCertificate !== undefined) {
          connection.send({ case: 'certificateRenewed', value: create(CertificateRenewedSchema, { clientCertificatePem: options.signCertificate(request.message.value.csrDer) }) });
        }
        if (request.message.case !== 'hello') return;
        const csrDer = request.message.value.csrDer;
        const enrolled = options.signCertificate !== undefined && csrDer.length > 0 ? { clientCertificatePem: options.signCertificate(csrDer) } : {};
        const welcome = options.welcome?.(connection, index) ?? {};
        if (welcome === 'none') return;
        connection.send({
          case: 'welcome',
          value: create(WelcomeSchema, {
            protocolVersion: PROTOCOL_VERSION,
            clusterName: request.message.value.clusterName,
            heartbeatIntervalSeconds: 30,
            inventoryIntervalSeconds: 30,
            ...enrolled,
            ...welcome,
          }),
        });
      });
      const finish = (): void => {
        connection.ended = true;
      };
      call.on('end', () => {
        finish();
        call.end();
      });
      call.on('cancelled', finish);
      call.on('error', finish);
    };
    server.addService(agentServiceDefinition, { connect });
    const tls = options.tls ?? defaultPki();
    const credentials =
      tls === 'insecure'
        ? grpc.ServerCredentials.createInsecure()
        : options.signCertificate !== undefined
          ? clientCertificateCredentials(tls)
          : grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.serverCertificatePem), private_key: Buffer.from(tls.serverKeyPem) }], false);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${options.port ?? 0}`, credentials, (error, bound) => (error === null ? resolve(bound) : reject(error)));
    });
    return new FakeHub(server, port, connections, tls === 'insecure' ? undefined : tls.caPem);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The most recent stream. */
  get last(): FakeConnection {
    const connection = this.connections.at(-1);
    if (connection === undefined) throw new Error('no agent connected yet');
    return connection;
  }

  /** Drops every stream and releases the port. */
  stop(): void {
    for (const connection of this.connections) connection.ended = true;
    this.#server.forceShutdown();
  }
}

/** TLS that asks for a client certificate without requiring one (as the hub serves it). */
function clientCertificateCredentials(tls: TestPki): grpc.ServerCredentials {
  const provider: grpc.experimental.CertificateProvider = {
    // Answered after the caller returns: grpc-js adds its server's watcher only after these listeners.
    addCaCertificateListener: (listener) => queueMicrotask(() => listener({ caCertificate: Buffer.from(tls.caPem) })),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) =>
      queueMicrotask(() => listener({ certificate: Buffer.from(tls.serverCertificatePem), privateKey: Buffer.from(tls.serverKeyPem) })),
    removeIdentityCertificateListener: () => undefined,
  };
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
}
