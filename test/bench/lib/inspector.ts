/**
 * Heap after GC of another Node process, read the same way for the hub and for a bare baseline server:
 * the process runs with `--inspect=127.0.0.1:0` (the hub through NODE_OPTIONS, so that its own code is
 * untouched), and over the Chrome DevTools Protocol this module asks for two full collections
 * (`HeapProfiler.collectGarbage`) and then the V8 heap in use (`Runtime.getHeapUsage`, the figure
 * `process.memoryUsage().heapUsed` reports). RSS is read from /proc/<pid>/status right after.
 * The inspector's own cost is a constant of the process, not of the connections it holds.
 */
import WebSocket from 'ws';
import { processRssMiB } from './proc.js';

const CALL_TIMEOUT_MS = 30_000;

/** The node option that opens an inspector on a free loopback port. */
export const INSPECT_OPTION = '--inspect=127.0.0.1:0';

/** The DevTools WebSocket URL a process printed on stderr ("Debugger listening on ws://..."). */
export function inspectorUrlOf(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

export interface MemorySample {
  /** V8 heap in use after two full collections, MiB. */
  readonly heapMiB: number;
  /** Resident set size right after, MiB. */
  readonly rssMiB: number;
}

/** Collects garbage in the process behind `url` and samples its heap and RSS. */
export async function memoryAfterGc(url: string, pid: number): Promise<MemorySample> {
  const ws = new WebSocket(url);
  await new Promise<void>((done, fail) => {
    ws.once('open', () => done());
    ws.once('error', fail);
  });
  const pending = new Map<number, { done: (result: unknown) => void; fail: (error: Error) => void }>();
  ws.on('message', (data: WebSocket.RawData) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.fail(new Error(`inspector: ${message.error.message}`));
    else waiter.done(message.result);
  });
  let nextId = 0;
  const call = (method: string): Promise<unknown> =>
    new Promise((done, fail) => {
      const id = ++nextId;
      const timer = setTimeout(() => fail(new Error(`inspector: no answer to ${method} within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
      pending.set(id, { done: (r) => (clearTimeout(timer), done(r)), fail: (e) => (clearTimeout(timer), fail(e)) });
      ws.send(JSON.stringify({ id, method }));
    });
  try {
    // Two collections: the first may only schedule finalisers and weak callbacks that free more.
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number };
    return { heapMiB: usage.usedSize / 2 ** 20, rssMiB: processRssMiB(pid) };
  } finally {
    ws.close();
  }
}
