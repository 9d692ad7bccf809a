import { gzipSync } from 'node:zlib';
import { LIMITS } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { decodeBundle, decodeBundles } from './manifest-bundles';

const JSON_TEXT = '[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ä"}}]';

describe('decodeBundle', () => {
  it.each([
    { name: 'an uncompressed row written before compression', row: { manifests_json: JSON_TEXT, encoding: null, content: null } },
    { name: 'a gzip row', row: { manifests_json: null, encoding: 'gzip', content: gzipSync(Buffer.from(JSON_TEXT, 'utf8')) } },
  ])('reads $name', async ({ row }) => {
    expect(await decodeBundle(row)).toBe(JSON_TEXT);
  });

  it('refuses corrupt compressed bytes with a clear error', async () => {
    await expect(decodeBundle({ manifests_json: null, encoding: 'gzip', content: Buffer.from('not gzip') })).rejects.toThrow('A manifest bundle could not be decompressed');
  });

  it('refuses a row of an encoding it does not know', async () => {
    await expect(decodeBundle({ manifests_json: null, encoding: 'zstd', content: Buffer.from('x') })).rejects.toThrow('A manifest bundle has an unknown encoding "zstd".');
  });

  it('stops inflating a row beyond the largest App instead of exhausting memory', async () => {
    const bomb = gzipSync(Buffer.alloc(LIMITS.maxAppManifestBytes + 1, 0x20));
    await expect(decodeBundle({ manifests_json: null, encoding: 'gzip', content: bomb })).rejects.toThrow(`A manifest bundle could not be decompressed (corrupt, or over ${LIMITS.maxAppManifestBytes} bytes)`);
  });
});

describe('decodeBundles', () => {
  it('maps each revision to its manifests, skipping rows with no bundle joined', async () => {
    const rows = [
      { revision: 'a ', manifests_json: JSON_TEXT, encoding: null, content: null },
      { revision: 'a', manifests_json: JSON_TEXT, encoding: null, content: null },
      { revision: 'b', manifests_json: null, encoding: 'gzip', content: gzipSync('[]') },
      { revision: 'c', manifests_json: null, encoding: null, content: null },
    ];
    expect(await decodeBundles(rows, (r) => r.revision)).toEqual(new Map([
      ['a', JSON_TEXT],
      ['b', '[]'],
    ]));
  });
});
