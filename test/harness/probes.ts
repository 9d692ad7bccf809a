import { request, type IncomingHttpHeaders } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { ConnectRequestSchema, PROTOCOL_VERSION, create, type ConnectRequest, type ConnectResponse } from '@flotilla/proto';
import { AgentServiceClient, GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import WebSocket from 'ws';
import type { GraphqlResponse } from './graphql.js';

/**
 * Low-level probes of the hub's three entry points (HTTP GraphQL, graphql-ws, the agent's gRPC stream)
 * that report what came back, status codes and close codes included, instead of throwing. Every probe
 * is bounded in time and opens its own connection, so that behind a balancer successive probes reach
 * successive replicas.
 */

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: GraphqlResponse<Record<string, unknown>> | undefined;
  readonly text: string;
}

export interface HttpProbe {
  readonly method?: 'GET' | 'POST';
  /** Extra headers (`authorization` included); names in lowercase. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

/** One HTTP request on a fresh connection (no keep-alive pool). */
export function httpProbe(url: string, probe: HttpProbe = {}): Promise<HttpAnswer> {
  const { method = 'GET', headers = {}, body, timeoutMs = 10_000 } = probe;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: HttpAnswer['json'];
        try {
          json = JSON.parse(text) as HttpAnswer['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} got no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A GraphQL operation as a JSON POST. */
export function postGraphql(url: string, authorization: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<HttpAnswer> {
  return httpProbe(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
}

/** A GraphQL operation as `GET <url>?query=…`. */
export function getGraphql(url: string, authorization: string | undefined, query: string): Promise<HttpAnswer> {
  return httpProbe(`${url}?query=${encodeURIComponent(query)}`, { headers: authorization !== undefined ? { authorization } : {} });
}

/** A graphql-transport-ws message as received. */
export interface SocketMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: unknown;
}

/** How a graphql-ws conversation went. */
export interface SocketOutcome {
  /** The server answered `connection_init` with `connection_ack`. */
  readonly acked: boolean;
  readonly messages: readonly SocketMessage[];
  /** How it ended: the socket closed, the operation completed or failed, or the probe gave up. */
  readonly ended: 'closed' | 'complete' | 'error' | 'timeout';
  readonly closeCode: number | undefined;
  /** Milliseconds from the socket's opening to the end. */
  readonly afterMs: number;
}

export interface SocketProbe {
  /** The `connection_init` payload (graphql-ws carries the token there, not in headers). */
  readonly connectionParams?: Record<string, unknown>;
  /** The WebSocket subprotocol: `graphql-transport-ws` (default), the legacy `graphql-ws`, or none. */
  readonly protocol?: 'graphql-transport-ws' | 'graphql-ws' | null;
  /** False: send the operation at once, without `connection_init` (a client skipping the handshake). */
  readonly init?: boolean;
  /** Extensions sent with the operation (mercurius reads a `connectionInit` extension there). */
  readonly extensions?: unknown;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly timeoutMs?: number;
}

/** An open graphql-ws conversation: its messages so far, how it ends, and a way to end it. */
export interface GraphqlSocket {
  readonly messages: readonly SocketMessage[];
  readonly outcome: Promise<SocketOutcome>;
  /** Resolves once a `next` arrived (rejects if the conversation ends first). */
  readonly firstNext: Promise<SocketMessage>;
  close(): void;
}

/**
 * Opens a graphql-transport-ws conversation: `connection_init` with the given payload, then (once
 * acknowledged) one `subscribe` with the operation (see {@link SocketProbe} for the deviations a test may ask for). Ends when the server closes the socket, completes
 * or fails the operation, or after `timeoutMs` (default 10 s).
 */
export function openGraphqlSocket(url: string, probe: SocketProbe): GraphqlSocket {
  const messages: SocketMessage[] = [];
  const protocol = probe.protocol === undefined ? 'graphql-transport-ws' : probe.protocol;
  const socket = protocol === null ? new WebSocket(url.replace(/^http/, 'ws')) : new WebSocket(url.replace(/^http/, 'ws'), protocol);
  // The legacy protocol names two messages differently.
  const [subscribeType, nextType] = protocol === 'graphql-ws' ? ['start', 'data'] : ['subscribe', 'next'];
  const subscribe = () => socket.send(JSON.stringify({ id: '1', type: subscribeType, payload: { query: probe.query, variables: probe.variables ?? {}, ...(probe.extensions ? { extensions: probe.extensions } : {}) } }));
  const opened = Date.now();
  let acked = false;
  let closeCode: number | undefined;
  let settle!: (ended: SocketOutcome['ended']) => void;
  let nextSeen!: (message: SocketMessage) => void;
  let nextMissed!: (error: Error) => void;
  const firstNext = new Promise<SocketMessage>((resolve, reject) => {
    nextSeen = resolve;
    nextMissed = reject;
  });
  firstNext.catch(() => undefined);
  const outcome = new Promise<SocketOutcome>((resolve) => {
    let done = false;
    const timer = setTimeout(() => settle('timeout'), probe.timeoutMs ?? 10_000);
    settle = (ended) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
      nextMissed(new Error(`the conversation ended (${ended}) before any next: ${JSON.stringify(messages)}`));
      resolve({ acked, messages: [...messages], ended, closeCode, afterMs: Date.now() - opened });
    };
  });
  socket.on('open', () => (probe.init === false ? subscribe() : socket.send(JSON.stringify({ type: 'connection_init', payload: probe.connectionParams }))));
  socket.on('message', (data: WebSocket.RawData) => {
    let message: SocketMessage;
    try {
      message = JSON.parse(data.toString()) as SocketMessage;
    } catch {
      message = { type: '(not JSON)', payload: data.toString().slice(0, 200) };
    }
    messages.push(message);
    if (message.type === 'connection_ack') {
      acked = true;
      subscribe();
    } else if (message.type === 'ping') {
      socket.send(JSON.stringify({ type: 'pong' }));
    } else if (message.type === nextType) {
      nextSeen(message);
    } else if (message.type === 'complete' || message.type === 'error') {
      settle(message.type);
    }
  });
  socket.on('close', (code: number) => {
    closeCode = code;
    settle('closed');
  });
  socket.on('error', () => settle('closed'));
  return { messages, outcome, firstNext, close: () => settle('closed') };
}

/** What the hub did with an agent stream. */
export interface AgentStreamOutcome {
  /** The `Refusal.code` the hub sent, if any. */
  readonly refusal: string | undefined;
  /** True when the hub sent Welcome (the stream was accepted). */
  readonly welcomed: boolean;
  /** The gRPC status the stream ended with; undefined when it did not end within the bound. */
  readonly status: grpc.status | undefined;
}

/** A client certificate (PEM) and its private key (PEM), as an agent keeps them in `client-identity.json`. */
export interface ProbeClientCertificate {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

/**
 * Opens the agent's Connect stream over TLS verified against `caPem` (the hub's `caBundle`; plaintext
 * when undefined) with `authorization` as its metadata (none when undefined), presenting
 * `clientCertificate` in the handshake when given (TLS only), says Hello as `cluster`, and waits (at
 * most `timeoutMs`) for the stream to end.
 */
export function probeAgentStream(
  address: string,
  caPem: string | undefined,
  cluster: string,
  authorization: string | undefined,
  timeoutMs = 10_000,
  clientCertificate?: ProbeClientCertificate,
): Promise<AgentStreamOutcome> {
  if (caPem === undefined && clientCertificate !== undefined) throw new Error('probeAgentStream: a client certificate needs TLS (pass caPem)');
  const credentials =
    caPem === undefined
      ? grpc.credentials.createInsecure()
      : clientCertificate === undefined
        ? grpc.credentials.createSsl(Buffer.from(caPem))
        : grpc.credentials.createSsl(Buffer.from(caPem), Buffer.from(clientCertificate.privateKeyPem), Buffer.from(clientCertificate.certificatePem));
  const client = new AgentServiceClient(address, credentials, GRPC_CHANNEL_OPTIONS);
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  const received: ConnectResponse[] = [];
  const stream: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> = client.connect(metadata);
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: grpc.status | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.cancel();
      client.close();
      resolve({
        refusal: received.flatMap((m) => (m.message.case === 'refusal' ? [m.message.value.code] : []))[0],
        welcomed: received.some((m) => m.message.case === 'welcome'),
        status,
      });
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    stream.on('data', (message: ConnectResponse) => {
      received.push(message);
      // An accepted stream stays open: the Welcome is the answer.
      if (message.message.case === 'welcome') finish(grpc.status.OK);
    });
    stream.on('status', (status: grpc.StatusObject) => finish(status.code));
    stream.on('error', () => undefined);
    stream.write(
      create(ConnectRequestSchema, {
        message: { case: 'hello', value: { protocolVersion: PROTOCOL_VERSION, clusterName: cluster, agentVersion: 'security-probe', inventory: { apps: [] } } },
      }),
    );
  });
}
