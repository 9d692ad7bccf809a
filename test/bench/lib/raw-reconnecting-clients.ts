/**
 * The client side of the S3/S4 floor: N bare grpc-js clients in this process that behave like the
 * agent's GrpcHubLink where it matters for connection cost and reconnect timing, and nothing else:
 * - the same channel options (the product's, plus grpc-js's own reconnect backoff bounded by ours,
 *   as GrpcHubLink.start sets them), one channel per client;
 * - the same loop: open one bidi stream, send a Hello (raw bytes), count the session as welcomed on
 *   the first message back; when the stream ends, wait `nextBackoffMs(attempt, random, reconnect)`
 *   (agent/src/core/backoff.ts) and retry; `attempt` goes back to 0 after a welcomed session;
 * - the same Welcome timeout as the simulated agents (lib/sim-agents.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import { nextBackoffMs, type BackoffOptions } from '../../../agent/src/core/backoff.js';
import { RAW_SERVICE } from '../scenarios/raw-hub.js';
import { rawChannelCredentials } from './raw-tls.js';

type RawClient = grpc.Client & { connect(): grpc.ClientDuplexStream<Buffer, Buffer> };
const RawClient = grpc.makeGenericClientConstructor(RAW_SERVICE, 'Raw') as unknown as new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ClientOptions) => RawClient;

const WELCOME_TIMEOUT_MS = 60_000;
/** GrpcHubLink's default: a stream that stayed up this long resets the backoff. */
const STABLE_AFTER_MS = 10_000;

export interface RawReconnectingFleet {
  /** performance.now() of each client's latest Welcome (undefined before its first). */
  readonly welcomedAt: (number | undefined)[];
  /** Streams opened so far, over all clients (each Hello sent). */
  sessions(): number;
  /** Clients whose current stream is welcomed. */
  connected(): number;
  close(): Promise<void>;
}

/** Starts `n` reconnecting raw clients against `address`; each sends `hello` on every new stream. */
export function startRawReconnectingFleet(address: string, n: number, hello: Uint8Array, reconnect: BackoffOptions): RawReconnectingFleet {
  const welcomedAt: (number | undefined)[] = new Array(n).fill(undefined);
  const live: boolean[] = new Array(n).fill(false);
  const calls = new Set<grpc.ClientDuplexStream<Buffer, Buffer>>();
  const wakes = new Set<() => void>();
  let stopped = false;
  let sessions = 0;

  const session = (client: RawClient, i: number) =>
    new Promise<{ welcomed: boolean; durationMs: number }>((resolve) => {
      const started = performance.now();
      let welcomed = false;
      const call = client.connect();
      calls.add(call);
      sessions += 1;
      const timer = setTimeout(() => call.cancel(), WELCOME_TIMEOUT_MS);
      const finish = () => {
        if (!calls.delete(call)) return;
        clearTimeout(timer);
        live[i] = false;
        resolve({ welcomed, durationMs: performance.now() - started });
      };
      call.on('data', () => {
        if (welcomed) return;
        welcomed = true;
        clearTimeout(timer);
        live[i] = true;
        welcomedAt[i] = performance.now();
      });
      call.on('error', finish);
      call.on('status', finish);
      call.write(Buffer.from(hello));
    });

  const sleep = (ms: number) =>
    new Promise<void>((done) => {
      const wake = () => {
        clearTimeout(timer);
        wakes.delete(wake);
        done();
      };
      const timer = setTimeout(wake, ms);
      wakes.add(wake);
    });

  const loops = Array.from({ length: n }, async (_, i) => {
    const client = new RawClient(address, rawChannelCredentials(), {
      ...GRPC_CHANNEL_OPTIONS,
      'grpc.initial_reconnect_backoff_ms': reconnect.baseMs,
      'grpc.max_reconnect_backoff_ms': reconnect.maxMs,
    });
    let attempt = 0;
    while (!stopped) {
      const outcome = await session(client, i);
      if (stopped) break;
      if (outcome.welcomed || outcome.durationMs >= STABLE_AFTER_MS) attempt = 0;
      const delay = nextBackoffMs(attempt, Math.random(), reconnect);
      attempt += 1;
      await sleep(delay);
    }
    client.close();
  });

  return {
    welcomedAt,
    sessions: () => sessions,
    connected: () => live.filter(Boolean).length,
    close: async () => {
      stopped = true;
      for (const wake of [...wakes]) wake();
      for (const call of [...calls]) call.cancel();
      await Promise.all(loops);
    },
  };
}
