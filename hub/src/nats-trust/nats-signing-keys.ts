import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAccount, createOperator, fromSeed, type KeyPair } from '@nats-io/nkeys';
import type { DataSource } from 'typeorm';
import { CA_ENCRYPTION_KEY_FILE } from '../trust/agent-link-ca.service';
import { encryptionKeyId, openPrivateKey, sealPrivateKey } from '../trust/ca-key-encryption';
import { NatsSigningKeyEntity, type NatsKeyPurpose } from './nats-signing-key.entity';

/** The hub's three NATS signing keys. */
export interface NatsSigningKeys {
  readonly operator: KeyPair;
  readonly systemAccount: KeyPair;
  readonly account: KeyPair;
}

const PREFIX: Record<NatsKeyPurpose, string> = { operator: 'SO', 'system-account': 'SA', account: 'SA' };

/**
 * Reads the operator-supplied seeds (one nkey seed per file, as `nsc` or `nk -gen` write them).
 * Throws naming the file, never the content.
 */
export function readSeedFiles(files: { operator: string; systemAccount: string; account: string }): NatsSigningKeys {
  const read = (file: string, purpose: NatsKeyPurpose): KeyPair => {
    const seed = readFileSync(file, 'utf8').trim();
    if (!seed.startsWith(PREFIX[purpose])) throw new Error(`${file} must hold an nkey seed starting with ${PREFIX[purpose]} (the ${purpose} seed)`);
    try {
      return fromSeed(new TextEncoder().encode(seed));
    } catch {
      throw new Error(`${file} does not hold a valid nkey seed`);
    }
  };
  return { operator: read(files.operator, 'operator'), systemAccount: read(files.systemAccount, 'system-account'), account: read(files.account, 'account') };
}

/**
 * Loads the hub's own signing keys from the database, generating the missing ones (the first replica
 * to insert one wins; the others read it). Seeds are sealed with AES-256-GCM under the CA encryption
 * key, bound to their purpose and public key.
 */
export async function loadOrCreateSigningKeys(db: DataSource, encryptionKey: Buffer): Promise<NatsSigningKeys> {
  const repo = db.getRepository(NatsSigningKeyEntity);
  const load = async (purpose: NatsKeyPurpose, create: () => KeyPair): Promise<KeyPair> => {
    let row = await repo.findOneBy({ purpose });
    if (!row) {
      const generated = create();
      const publicKey = generated.getPublicKey();
      await repo
        .createQueryBuilder()
        .insert()
        .into(NatsSigningKeyEntity)
        .values({ purpose, publicKey, sealedSeed: sealPrivateKey(encryptionKey, Buffer.from(generated.getSeed()), associatedData(purpose, publicKey)), encryptionKeyId: encryptionKeyId(encryptionKey) })
        .orIgnore()
        .execute();
      row = await repo.findOneByOrFail({ purpose });
    }
    if (row.encryptionKeyId !== encryptionKeyId(encryptionKey)) {
      throw new Error(`The NATS ${purpose} seed in the database is sealed with encryption key ${row.encryptionKeyId}, but this replica has ${encryptionKeyId(encryptionKey)}: every replica needs the same FLOTILLA_CA_ENCRYPTION_KEY.`);
    }
    const keyPair = fromSeed(new Uint8Array(openPrivateKey(encryptionKey, row.sealedSeed, associatedData(purpose, row.publicKey))));
    if (keyPair.getPublicKey() !== row.publicKey) throw new Error(`The NATS ${purpose} seed in the database does not match its public key`);
    return keyPair;
  };
  return { operator: await load('operator', createOperator), systemAccount: await load('system-account', createAccount), account: await load('account', createAccount) };
}

/**
 * FLOTILLA_CA_ENCRYPTION_KEY, else the key the agent-link CA keeps in the data folder (it exists once
 * the CA is loaded). The NATS seeds share it so that operators manage one key.
 */
export function resolveEncryptionKey(configured: Buffer | undefined, dataDir: string): Buffer {
  if (configured) return configured;
  const file = join(dataDir, CA_ENCRYPTION_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`FLOTILLA_NATS_OPERATOR=true seals the NATS seeds with FLOTILLA_CA_ENCRYPTION_KEY, which is unset, and ${file} does not exist: set FLOTILLA_CA_ENCRYPTION_KEY`);
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${file} must hold a 32-byte key in base64`);
  return key;
}

function associatedData(purpose: NatsKeyPurpose, publicKey: string): string {
  return `flotilla nats ${purpose} ${publicKey}`;
}
