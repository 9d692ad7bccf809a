/**
 * The floor of S2: a bare "hub" that writes the same bytes to N connected clients and counts their
 * acks, with nothing else (no database, no outbox, no JetStream). It runs as a child process (like the
 * real hub) so that its CPU is read the same way, from /proc/<pid>/stat.
 *   grpc: a grpc-js server with one bidi method and identity (Buffer) serializers, the product's
 *         channel options, over TLS like the hub (lib/raw-tls.ts); clients open one bidi stream each
 *         and answer every message with an ack.
 *   nats: core NATS: publish the bytes on bench.raw.<i>; clients answer on bench.ack.<i>.
 * Control over stdin/stdout, one line each: `release <n>` → writes; prints `acked` after n acks.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import { rawServerCredentials } from '../lib/raw-tls.js';

const identity = (b: Buffer): Buffer => b;
/** One bidi method carrying raw bytes both ways. */
export const RAW_SERVICE: grpc.ServiceDefinition = {
  connect: {
    path: '/bench.Raw/Connect',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** Child entry: `--raw-hub grpc <payloadFile> <tlsDir>` or `--raw-hub nats <payloadFile> <url> <user> <password>`. */
export async function runRawHub(args: string[]): Promise<void> {
  const [mode, payloadFile, url, user, password] = args;
  const tlsDir = url;
  const payload = readFileSync(payloadFile!);
  let expected = 0;
  let acked = 0;
  const onAck = () => {
    acked += 1;
    if (acked === expected) console.log('acked');
  };
  let release: (n: number) => void;
  let close: () => Promise<void>;
  if (mode === 'grpc') {
    const streams = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();
    const server = new grpc.Server(GRPC_CHANNEL_OPTIONS);
    server.addService(RAW_SERVICE, {
      connect: (stream: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        streams.add(stream);
        stream.on('data', onAck);
        stream.on('error', () => streams.delete(stream));
        stream.on('end', () => {
          streams.delete(stream);
          stream.end();
        });
      },
    });
    const port = await new Promise<number>((done, fail) => server.bindAsync('127.0.0.1:0', rawServerCredentials(tlsDir!), (e, p) => (e ? fail(e) : done(p))));
    release = () => {
      for (const stream of streams) stream.write(payload);
    };
    close = () => new Promise((done) => server.tryShutdown(() => done()));
    console.log(`ready 127.0.0.1:${port}`);
  } else {
    const nc: NatsConnection = await connect({ servers: url!, user: user!, pass: password! });
    nc.subscribe('bench.ack.>', { callback: onAck });
    await nc.flush();
    release = (n) => {
      for (let i = 0; i < n; i++) nc.publish(`bench.raw.${i}`, payload);
    };
    close = () => nc.close();
    console.log('ready');
  }
  for await (const line of createInterface({ input: process.stdin })) {
    const [verb, count] = line.split(' ');
    if (verb === 'release') {
      expected = Number(count);
      acked = 0;
      release(expected);
    } else if (verb === 'stop') break;
  }
  await close();
  process.exit(0);
}
