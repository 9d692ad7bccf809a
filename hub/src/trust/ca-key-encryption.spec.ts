import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealedKeyError, encryptionKeyId, openPrivateKey, sealPrivateKey } from './ca-key-encryption';

const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);
const PLAINTEXT = Buffer.from('-----BEGIN PRIVATE KEY-----\nnot really a key\n-----END PRIVATE KEY-----\n');

describe('sealing the CA key', () => {
  it('opens what it sealed under the same key and associated data', () => {
    expect(openPrivateKey(KEY, sealPrivateKey(KEY, PLAINTEXT, 'ca-1'), 'ca-1')).toEqual(PLAINTEXT);
  });

  it('never stores the plaintext, and seals the same key differently each time (fresh nonce)', () => {
    const first = sealPrivateKey(KEY, PLAINTEXT, 'ca-1');
    const second = sealPrivateKey(KEY, PLAINTEXT, 'ca-1');
    expect(first).not.toBe(second);
    expect(first).not.toContain('PRIVATE KEY');
    expect(Buffer.from(first.split(':')[2]!, 'base64').toString('latin1')).not.toContain('PRIVATE KEY');
    expect(first).toMatch(/^aes-256-gcm\.v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  });

  it.each([
    { name: 'another encryption key', open: (sealed: string) => openPrivateKey(OTHER_KEY, sealed, 'ca-1') },
    { name: 'the associated data of another certificate', open: (sealed: string) => openPrivateKey(KEY, sealed, 'ca-2') },
    {
      name: 'a ciphertext altered by one bit',
      open: (sealed: string) => {
        const parts = sealed.split(':');
        const ciphertext = Buffer.from(parts[2]!, 'base64');
        ciphertext[0] = ciphertext[0]! ^ 1;
        parts[2] = ciphertext.toString('base64');
        return openPrivateKey(KEY, parts.join(':'), 'ca-1');
      },
    },
    { name: 'a value in another format', open: () => openPrivateKey(KEY, 'plain:text', 'ca-1') },
  ])('refuses to open with $name, saying nothing of the key', ({ open }) => {
    const sealed = sealPrivateKey(KEY, PLAINTEXT, 'ca-1');
    expect(() => open(sealed)).toThrow(SealedKeyError);
    try {
      open(sealed);
    } catch (error) {
      expect(String(error)).not.toContain(KEY.toString('base64'));
    }
  });

  it('names a key with a short id that is stable for the key and differs between keys', () => {
    expect(encryptionKeyId(KEY)).toMatch(/^[0-9a-f]{16}$/);
    expect(encryptionKeyId(Buffer.from(KEY))).toBe(encryptionKeyId(KEY));
    expect(encryptionKeyId(OTHER_KEY)).not.toBe(encryptionKeyId(KEY));
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => sealPrivateKey(randomBytes(16), PLAINTEXT, 'ca-1')).toThrow(/32 bytes/);
  });
});
