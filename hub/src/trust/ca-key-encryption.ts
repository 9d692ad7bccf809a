import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption at rest of the CA's private key: AES-256-GCM under the 32-byte FLOTILLA_CA_ENCRYPTION_KEY,
 * with a fresh 96-bit nonce per seal. The associated data binds the sealed key to its certificate, so a
 * sealed key moved under another certificate row does not open.
 */

const FORMAT = 'aes-256-gcm.v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Raised when a sealed key does not open: another encryption key, or tampered data. Never carries key material. */
export class SealedKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedKeyError';
  }
}

/** `aes-256-gcm.v1:<nonce>:<ciphertext>:<tag>` (base64 parts). */
export function sealPrivateKey(encryptionKey: Buffer, plaintext: Buffer, associatedData: string): string {
  checkKey(encryptionKey);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [FORMAT, nonce.toString('base64'), ciphertext.toString('base64'), cipher.getAuthTag().toString('base64')].join(':');
}

/** Opens what {@link sealPrivateKey} sealed; throws {@link SealedKeyError} on a wrong key, other data or a bad format. */
export function openPrivateKey(encryptionKey: Buffer, sealed: string, associatedData: string): Buffer {
  checkKey(encryptionKey);
  const [format, nonce, ciphertext, tag, ...rest] = sealed.split(':');
  if (format !== FORMAT || nonce === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) {
    throw new SealedKeyError(`the sealed CA key is not in the ${FORMAT} format`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(nonce, 'base64'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new SealedKeyError('the CA key does not open with this encryption key (another key, or the stored data was altered)');
  }
}

/**
 * A short public name of an encryption key (16 hex digits of a domain-separated sha256), stored next
 * to the sealed key so that a replica holding another key can say so. Reveals nothing usable about a
 * 256-bit random key.
 */
export function encryptionKeyId(encryptionKey: Buffer): string {
  checkKey(encryptionKey);
  return createHash('sha256').update('flotilla ca-encryption-key id\0').update(encryptionKey).digest('hex').slice(0, 16);
}

function checkKey(encryptionKey: Buffer): void {
  if (encryptionKey.length !== 32) throw new SealedKeyError('the CA encryption key must be 32 bytes');
}
