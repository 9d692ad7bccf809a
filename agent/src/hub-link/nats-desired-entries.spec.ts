import { createHash } from 'node:crypto';
import { ConnectResponseSchema, create, toBinary, type ConnectResponse } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { DesiredEntries, KV_HEADER, MAX_JOINED_BYTES, type KvEntryInput } from './nats-desired-entries.js';

const BUCKET = 'flotilla-desired';
const PREFIX = `$KV.${BUCKET}.edge-1.`;

function headersOf(values: Record<string, string>): KvEntryInput['headers'] {
  return { get: (name: string) => values[name] ?? '' };
}

function entry(key: string, data: Uint8Array, headers: Record<string, string> = {}): KvEntryInput {
  return { subject: `${PREFIX}${key}`, headers: headersOf(headers), data };
}

function desiredApp(appName: string, generation: bigint, manifestsJson = '[]'): ConnectResponse {
  return create(ConnectResponseSchema, { message: { case: 'desiredApp', value: { appName, appSet: appName, revision: 'r'.repeat(64), generation, manifestsJson } } });
}

/** The entries the hub writes for a value split into `pieces` chunks: the chunks, then the App key. */
function split(appName: string, generation: bigint, message: ConnectResponse, pieces: number): { chunks: KvEntryInput[]; main: KvEntryInput } {
  const bytes = toBinary(ConnectResponseSchema, message);
  const size = Math.ceil(bytes.length / pieces);
  const chunks = Array.from({ length: pieces }, (_, i) => entry(`${appName}._chunk.${generation}.${i}`, bytes.subarray(i * size, (i + 1) * size)));
  const main = entry(appName, new Uint8Array(), {
    [KV_HEADER.chunks]: String(pieces),
    [KV_HEADER.size]: String(bytes.length),
    [KV_HEADER.sha256]: createHash('sha256').update(bytes).digest('hex'),
    [KV_HEADER.generation]: String(generation),
  });
  return { chunks, main };
}

describe('DesiredEntries', () => {
  it('reads an App key holding a whole DesiredApp or RemoveApp', () => {
    const entries = new DesiredEntries(BUCKET, 'edge-1');
    expect(entries.accept(entry('web', toBinary(ConnectResponseSchema, desiredApp('web', 3n))))).toMatchObject({ kind: 'desiredApp', message: { appName: 'web', generation: 3n } });
    const removal = create(ConnectResponseSchema, { message: { case: 'removeApp', value: { appName: 'db', generation: 4n } } });
    expect(entries.accept(entry('db', toBinary(ConnectResponseSchema, removal))))
      .toMatchObject({ kind: 'removeApp', message: { appName: 'db', generation: 4n } });
  });

  it('reads the Welcome and the Refusal of the cluster', () => {
    const entries = new DesiredEntries(BUCKET, 'edge-1');
    const welcome = create(ConnectResponseSchema, { message: { case: 'welcome', value: { protocolVersion: 1, clusterName: 'edge-1' } } });
    const refusal = create(ConnectResponseSchema, { message: { case: 'refusal', value: { code: 'UNKNOWN_CLUSTER' } } });
    expect(entries.accept(entry('_welcome', toBinary(ConnectResponseSchema, welcome)))).toMatchObject({ kind: 'welcome', message: welcome });
    expect(entries.accept(entry('_welcome', toBinary(ConnectResponseSchema, refusal)))).toMatchObject({ kind: 'welcome', message: refusal });
  });

  it('joins a split value once its App key and every chunk are there, in either order', () => {
    const message = desiredApp('web', 5n, JSON.stringify([{ data: 'x'.repeat(5000) }]));
    const inOrder = new DesiredEntries(BUCKET, 'edge-1');
    const { chunks, main } = split('web', 5n, message, 3);
    expect(chunks.map((c) => inOrder.accept(c).kind)).toEqual(['pending', 'pending', 'pending']);
    expect(inOrder.accept(main)).toMatchObject({ kind: 'desiredApp', message: { appName: 'web', generation: 5n, manifestsJson: JSON.stringify([{ data: 'x'.repeat(5000) }]) } });
    expect(inOrder.bufferedBytes).toBe(0);

    const mainFirst = new DesiredEntries(BUCKET, 'edge-1');
    expect(mainFirst.accept(main).kind).toBe('pending');
    expect([chunks[2]!, chunks[0]!].map((c) => mainFirst.accept(c).kind)).toEqual(['pending', 'pending']);
    expect(mainFirst.accept(chunks[1]!)).toMatchObject({ kind: 'desiredApp', message: { generation: 5n } });
  });

  it('refuses joined chunks whose sha256 does not match', () => {
    const entries = new DesiredEntries(BUCKET, 'edge-1');
    const { chunks, main } = split('web', 5n, desiredApp('web', 5n, JSON.stringify(['y'.repeat(3000)])), 2);
    const tampered = { ...chunks[1]!, data: chunks[1]!.data.map((b) => b ^ 1) };
    entries.accept(chunks[0]!);
    entries.accept(tampered);
    expect(entries.accept(main)).toEqual({ kind: 'ignored', reason: 'chunks of App web do not match their size or sha256' });
  });

  it('drops the chunks of older generations once a newer value of the App arrives', () => {
    const entries = new DesiredEntries(BUCKET, 'edge-1');
    const { chunks } = split('web', 5n, desiredApp('web', 5n, JSON.stringify(['z'.repeat(3000)])), 2);
    entries.accept(chunks[0]!);
    expect(entries.bufferedBytes).toBeGreaterThan(0);
    entries.accept(entry('web', toBinary(ConnectResponseSchema, desiredApp('web', 6n))));
    expect(entries.bufferedBytes).toBe(0);
  });

  it('keeps at most its byte budget of chunks', () => {
    const entries = new DesiredEntries(BUCKET, 'edge-1', 1000);
    entries.accept(entry('a._chunk.1.0', new Uint8Array(600)));
    entries.accept(entry('b._chunk.1.0', new Uint8Array(600)));
    expect(entries.bufferedBytes).toBeLessThanOrEqual(1000);
  });

  it('drops chunks that no App key joined within the timeout, and keeps them until then', () => {
    const message = desiredApp('web', 5n, JSON.stringify(['t'.repeat(3000)]));
    const kept = new DesiredEntries(BUCKET, 'edge-1', 1e6, 1000);
    const { chunks, main } = split('web', 5n, message, 2);
    chunks.forEach((c) => kept.accept(c, 100));
    expect(kept.accept(main, 1100)).toMatchObject({ kind: 'desiredApp', message: { generation: 5n } });

    const expired = new DesiredEntries(BUCKET, 'edge-1', 1e6, 1000);
    chunks.forEach((c) => expired.accept(c, 100));
    expect(expired.accept(main, 1101)).toEqual({ kind: 'pending' });
    expect(expired.bufferedBytes).toBe(0);
  });

  it.each([
    { name: 'a KV delete of an App key', key: 'web', operation: 'DEL' },
    { name: 'a KV purge of an App key', key: 'web', operation: 'PURGE' },
    { name: 'a KV delete of the welcome key', key: '_welcome', operation: 'DEL' },
    { name: 'a KV delete of a chunk', key: 'web._chunk.3.0', operation: 'DEL' },
  ])('reads $name as a deletion, never as a removal', ({ key, operation }) => {
    expect(new DesiredEntries(BUCKET, 'edge-1').accept(entry(key, new Uint8Array(), { 'KV-Operation': operation }))).toEqual({ kind: 'deleted' });
  });

  it.each([
    { name: 'a key of another cluster', input: { subject: `$KV.${BUCKET}.edge-2.web`, headers: undefined, data: new Uint8Array() }, reason: 'entry of another cluster' },
    { name: 'a value naming another App', input: entry('web', toBinary(ConnectResponseSchema, desiredApp('db', 1n))), reason: 'value under key web names App db' },
    { name: 'bytes that are not a ConnectResponse', input: entry('web', new Uint8Array([0xff, 0xff, 0xff])), reason: 'value of App web is not a DesiredApp or RemoveApp' },
    { name: 'a reserved key it does not know', input: entry('_future', new Uint8Array()), reason: 'unknown reserved key' },
    {
      name: 'a split value announcing more than the size cap',
      input: entry('web', new Uint8Array(), { [KV_HEADER.chunks]: '2', [KV_HEADER.size]: String(MAX_JOINED_BYTES + 1), [KV_HEADER.sha256]: 'a'.repeat(64), [KV_HEADER.generation]: '1' }),
      reason: 'split value of App web has invalid or oversized headers',
    },
  ])('ignores $name', ({ input, reason }) => {
    expect(new DesiredEntries(BUCKET, 'edge-1').accept(input)).toEqual({ kind: 'ignored', reason });
  });
});
