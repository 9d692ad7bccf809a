import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ConnectResponseSchema, type ConnectResponse, type DesiredAppHeader, type ManifestChunk } from '../gen/flotilla/agent/v1/agent_pb.js';
import { canonicalJson } from './canonical-json.js';
import { ManifestReassembler, deliveryMessages, type ReassemblyLimits } from './chunks.js';
import { revisionOf } from './revision.js';

function desiredApp(appName: string, generation: bigint, manifests: unknown[]): ConnectResponse {
  return create(ConnectResponseSchema, {
    message: { case: 'desiredApp', value: { appName, appSet: 'set', generation, revision: revisionOf(manifests), namespace: 'ns', manifestsJson: canonicalJson(manifests) } },
  });
}

/** Manifests of about `bytes` bytes, with multi-byte characters so that chunk borders split them. */
function bigManifests(bytes: number): unknown[] {
  return [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { text: 'ä€x'.repeat(Math.ceil(bytes / 6)) } }];
}

function manifestsOf(message: ConnectResponse): string {
  if (message.message.case !== 'desiredApp') throw new Error(`expected a DesiredApp, got ${message.message.case}`);
  return message.message.value.manifestsJson;
}

function headerOf(message: ConnectResponse): DesiredAppHeader {
  if (message.message.case !== 'desiredAppHeader') throw new Error(`expected a header, got ${message.message.case}`);
  return message.message.value;
}

function chunkOf(message: ConnectResponse): ManifestChunk {
  if (message.message.case !== 'manifestChunk') throw new Error(`expected a chunk, got ${message.message.case}`);
  return message.message.value;
}

const LIMITS: ReassemblyLimits = { maxManifestBytes: 64 * 1024, maxChunks: 64, timeoutMs: 1000 };

describe('deliveryMessages', () => {
  it.each([
    { name: 'a small DesiredApp', message: desiredApp('web', 1n, [{ kind: 'ConfigMap' }]) },
    { name: 'a RemoveApp', message: create(ConnectResponseSchema, { message: { case: 'removeApp', value: { appName: 'web', generation: 2n } } }) },
    { name: 'a Welcome', message: create(ConnectResponseSchema, { message: { case: 'welcome', value: { clusterName: 'edge-1' } } }) },
  ])('sends $name as it is', ({ message }) => {
    expect(deliveryMessages(message, 1024)).toEqual([message]);
  });

  it('sends a DesiredApp over the chunk size as a header and chunks no larger than the chunk size', () => {
    const message = desiredApp('web', 7n, bigManifests(10_000));
    const bytes = Buffer.byteLength(manifestsOf(message), 'utf8');
    const [first, ...rest] = deliveryMessages(message, 1024);
    const header = headerOf(first!);
    expect(header).toMatchObject({ chunkCount: Math.ceil(bytes / 1024), manifestsBytes: BigInt(bytes), app: { appName: 'web', generation: 7n, manifestsJson: '' } });
    const chunks = rest.map(chunkOf);
    expect(chunks.map((c) => c.index)).toEqual([...Array(header.chunkCount).keys()]);
    expect(chunks.every((c) => c.data.length <= 1024 && c.appName === 'web' && c.generation === 7n)).toBe(true);
  });
});

describe('ManifestReassembler', () => {
  it('joins the chunks of a big DesiredApp into the original, whose revision verifies', () => {
    const message = desiredApp('web', 3n, bigManifests(20_000));
    const [header, ...chunks] = deliveryMessages(message, 1000);
    const reassembler = new ManifestReassembler(LIMITS);
    const events = [reassembler.header(headerOf(header), 0), ...chunks.map((c) => reassembler.chunk(chunkOf(c), 10))];
    expect(events.slice(0, -1).every((e) => e.kind === 'pending')).toBe(true);
    const last = events.at(-1)!;
    expect(last.kind).toBe('complete');
    if (last.kind !== 'complete') return;
    expect(last.app.manifestsJson).toBe(manifestsOf(message));
    expect(revisionOf(JSON.parse(last.app.manifestsJson) as unknown[])).toBe(last.app.revision);
    expect(reassembler.inFlight).toBeUndefined();
  });

  const [headerMessage, ...chunkMessages] = deliveryMessages(desiredApp('web', 3n, bigManifests(5000)), 1000);
  const header = headerOf(headerMessage!);
  const chunks = chunkMessages.map(chunkOf);
  it.each([
    { name: 'a chunk out of order', feed: [chunks[1]!], reason: 'chunk 1 arrived where chunk 0 was expected' },
    { name: 'a chunk of another generation', feed: [{ ...chunks[0]!, generation: 4n }], reason: 'a chunk of App web generation 4 arrived while joining generation 3' },
    { name: 'chunks longer than announced', feed: [chunks[0]!, { ...chunks[1]!, data: new Uint8Array(5000) }], reason: `the chunks exceed the announced ${header.manifestsBytes} bytes` },
  ])('drops the App in flight on $name', ({ feed, reason }) => {
    const reassembler = new ManifestReassembler(LIMITS);
    reassembler.header(header, 0);
    const events = feed.map((c) => reassembler.chunk(c, 1));
    expect(events.at(-1)).toEqual({ kind: 'dropped', appName: 'web', reason });
    expect(reassembler.inFlight).toBeUndefined();
  });

  it.each([
    { name: 'manifests over the cap', patch: { manifestsBytes: 64n * 1024n + 1n }, reason: 'the manifests are 65537 bytes, over the 65536-byte cap' },
    { name: 'more chunks than allowed', patch: { chunkCount: 65 }, reason: `the header announces 65 chunks for ${header.manifestsBytes} bytes` },
    { name: 'no chunks', patch: { chunkCount: 0 }, reason: `the header announces 0 chunks for ${header.manifestsBytes} bytes` },
  ])('refuses a header announcing $name', ({ patch, reason }) => {
    const reassembler = new ManifestReassembler(LIMITS);
    expect(reassembler.header({ ...header, ...patch }, 0)).toEqual({ kind: 'dropped', appName: 'web', reason });
    expect(reassembler.inFlight).toBeUndefined();
  });

  it('ignores a chunk that comes without a header', () => {
    expect(new ManifestReassembler(LIMITS).chunk(chunks[0]!, 0)).toEqual({ kind: 'dropped', appName: 'web', reason: 'a chunk arrived without its header' });
  });

  it('keeps one App in flight: a new header abandons an incomplete one', () => {
    const reassembler = new ManifestReassembler(LIMITS);
    reassembler.header(header, 0);
    reassembler.chunk(chunks[0]!, 0);
    expect(reassembler.header({ ...header, app: { ...header.app!, appName: 'db' } }, 1)).toEqual({ kind: 'pending', abandoned: 'web' });
    expect(reassembler.inFlight).toEqual({ appName: 'db', generation: 3n, receivedBytes: 0 });
  });

  it('drops an App whose chunks stop coming once the timeout has passed, and not before', () => {
    const reassembler = new ManifestReassembler(LIMITS);
    reassembler.header(header, 100);
    expect(reassembler.expire(1100)).toBeUndefined();
    expect(reassembler.expire(1101)).toEqual({ kind: 'dropped', appName: 'web', reason: 'its chunks did not all arrive within 1000 ms' });
    expect(reassembler.chunk(chunks[0]!, 1102)).toEqual({ kind: 'dropped', appName: 'web', reason: 'a chunk arrived without its header' });
  });
});
