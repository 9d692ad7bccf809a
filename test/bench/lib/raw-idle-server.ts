/**
 * The floor of S3 and S4: a bare grpc-js server with the hub's server options (the product's channel
 * options plus the two keepalive settings of hub/src/agent-link/agent-link.server.ts) and one bidi
 * method of raw bytes. It holds every stream it is given and answers the first message of each with a
 * fixed Welcome: a "no-op resync" (authentication, session registry, database and resync all left out).
 * It runs in a child process (`bench.mjs --raw-idle <port> <welcomeFile> <tlsDir>`) with an inspector
 * open, so that its memory is read like the hub's and it can be killed with SIGKILL like the hub. It
 * serves TLS like the hub (lib/raw-tls.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import { RAW_SERVICE } from '../scenarios/raw-hub.js';
import { onCleanup } from './cleanup.js';
import { INSPECT_OPTION, inspectorUrlOf } from './inspector.js';
import { waitFor } from './proc.js';
import { rawServerCredentials, rawTlsDir } from './raw-tls.js';

/** The options AgentLinkServer gives its grpc.Server (kept in step by hand: they are not exported). */
export const HUB_SERVER_OPTIONS: grpc.ServerOptions = {
  ...GRPC_CHANNEL_OPTIONS,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
};

/** Child entry: serves until stdin says `stop` (or the process is killed). */
export async function runRawIdleServer(args: string[]): Promise<void> {
  const [port, welcomeFile, tlsDir] = args;
  const welcome = readFileSync(welcomeFile!);
  const streams = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();
  const server = new grpc.Server(HUB_SERVER_OPTIONS);
  server.addService(RAW_SERVICE, {
    connect: (stream: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      streams.add(stream);
      let answered = false;
      stream.on('data', () => {
        if (answered) return;
        answered = true;
        stream.write(welcome);
      });
      stream.on('error', () => streams.delete(stream));
      stream.on('end', () => {
        streams.delete(stream);
        stream.end();
      });
    },
  });
  const bound = await new Promise<number>((done, fail) => server.bindAsync(`127.0.0.1:${port}`, rawServerCredentials(tlsDir!), (e, p) => (e ? fail(e) : done(p))));
  console.log(`ready 127.0.0.1:${bound}`);
  for await (const line of createInterface({ input: process.stdin })) if (line === 'stop') break;
  server.forceShutdown();
  process.exit(0);
}

/** The parent's handle on a running raw idle server. */
export interface RawIdleServer {
  readonly pid: number;
  readonly address: string;
  readonly port: number;
  readonly inspectorUrl: string;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the raw idle server on `port` (0: any free port) answering with the bytes of `welcomeFile`. */
export async function startRawIdleServer(port: number, welcomeFile: string): Promise<RawIdleServer> {
  const entry = fileURLToPath(new URL('../bench.mjs', import.meta.url));
  const child = spawn(process.execPath, [INSPECT_OPTION, entry, '--raw-idle', String(port), welcomeFile, rawTlsDir()], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.stdin!.on('error', () => undefined); // a killed server's stdin: nothing to tell it any more
  onCleanup(() => void child.kill('SIGKILL'));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  let address = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('ready ')) address = line.slice('ready '.length);
  });
  await waitFor(() => (address !== '' && inspectorUrlOf(stderr) !== undefined) || child.exitCode !== null, 'the raw idle server to listen', 60_000);
  const inspectorUrl = inspectorUrlOf(stderr);
  if (address === '' || !inspectorUrl) throw new Error(`raw idle server exited: ${stderr.slice(-10).join('\n')}`);
  return {
    pid: child.pid!,
    address,
    port: Number(address.split(':')[1]),
    inspectorUrl,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end('stop\n');
      await exited;
    },
  };
}
