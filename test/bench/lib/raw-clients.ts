/**
 * The client side of S2's floor: N raw clients in this process, one connection each (gRPC over TLS with
 * the product's channel options, so a local subchannel pool; NATS one connection per client), each
 * answering a message with the ack bytes and timestamping when it did.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import { RAW_SERVICE } from '../scenarios/raw-hub.js';
import { rawChannelCredentials } from './raw-tls.js';

export interface RawFleet {
  /** performance.now() of each client's latest ack (undefined until it acked since `reset`). */
  readonly ackedAt: (number | undefined)[];
  reset(): void;
  close(): Promise<void>;
}

type RawClient = grpc.Client & { connect(): grpc.ClientDuplexStream<Buffer, Buffer> };
const RawClient = grpc.makeGenericClientConstructor(RAW_SERVICE, 'Raw') as unknown as new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ClientOptions) => RawClient;

export async function startRawGrpcFleet(address: string, n: number, ack: Uint8Array): Promise<RawFleet> {
  const ackedAt: (number | undefined)[] = new Array(n).fill(undefined);
  const clients: RawClient[] = [];
  const streams: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const client = new RawClient(address, rawChannelCredentials(), GRPC_CHANNEL_OPTIONS);
      clients.push(client);
      await new Promise<void>((done, fail) => client.waitForReady(Date.now() + 60_000, (e) => (e ? fail(e) : done())));
      const stream = client.connect();
      stream.on('data', () => {
        stream.write(Buffer.from(ack));
        ackedAt[i] = performance.now();
      });
      stream.on('error', () => undefined);
      streams.push(stream);
    }),
  );
  return {
    ackedAt,
    reset: () => ackedAt.fill(undefined),
    close: async () => {
      for (const stream of streams) stream.end();
      for (const client of clients) client.close();
    },
  };
}

export async function startRawNatsFleet(url: string, user: string, password: string, n: number, ack: Uint8Array): Promise<RawFleet> {
  const ackedAt: (number | undefined)[] = new Array(n).fill(undefined);
  const connections: NatsConnection[] = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const nc = await connect({ servers: url, user, pass: password });
      nc.subscribe(`bench.raw.${i}`, {
        callback: () => {
          nc.publish(`bench.ack.${i}`, ack);
          ackedAt[i] = performance.now();
        },
      });
      await nc.flush();
      return nc;
    }),
  );
  return {
    ackedAt,
    reset: () => ackedAt.fill(undefined),
    close: async () => {
      await Promise.all(connections.map((nc) => nc.close()));
    },
  };
}
