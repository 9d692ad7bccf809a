import type { ClientIdentity } from '../hub-link/client-identity.js';
import type { StateStore } from './state-store.js';

/**
 * The agent's client identity (its private key and, once enrolled, its certificate) as one JSON
 * document in the {@link StateStore} (`client-identity.json`, mode 0600, or a Secret). The key is
 * written before its CSR leaves the agent, so that the certificate the hub returns always has its key.
 * Never logged.
 */
export class ClientIdentityStore {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** The stored identity; undefined when none is stored or the document is unreadable (a new key is enrolled then). */
  async read(): Promise<ClientIdentity | undefined> {
    const text = await this.#store.read('client-identity');
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as Partial<ClientIdentity>;
      if (typeof parsed.privateKeyPem !== 'string') return undefined;
      return {
        privateKeyPem: parsed.privateKeyPem,
        certificatePem: typeof parsed.certificatePem === 'string' ? parsed.certificatePem : undefined,
        caBundlePem: typeof parsed.caBundlePem === 'string' ? parsed.caBundlePem : undefined,
        enrolledWith: typeof parsed.enrolledWith === 'string' ? parsed.enrolledWith : undefined,
      };
    } catch {
      return undefined;
    }
  }

  /** Replaces the stored identity; resolves once it is durable. */
  async write(identity: ClientIdentity): Promise<void> {
    await this.#store.write('client-identity', `${JSON.stringify(identity)}\n`);
  }
}
