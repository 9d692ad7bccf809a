import { hkdfSync, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import { keyedMarker, type Marker } from '../core/secrets/redaction';
import { redactAppSetDocument } from '../core/secrets/secret-parameters';
import { resolveEncryptionKey } from '../nats-trust/nats-signing-keys';

/** Domain separation of the redaction key derived from the CA encryption key. */
const DERIVATION_INFO = 'flotilla redaction-marker key v1';

/**
 * The hub's redaction: the keyed marker every output path uses (see core/secrets), and the redacted
 * views of stored AppSet documents. The key is FLOTILLA_REDACTION_KEY, else derived (HKDF-SHA256) from
 * the CA encryption key so that replicas sharing it show the same markers, else a random key of this
 * process (markers then differ between replicas and restarts, and a warning says so). It is read on
 * first use, after the agent-link CA has made its key at start.
 */
@Injectable()
export class SecretRedaction {
  private readonly log = new Logger('Secrets');
  private mark: Marker | undefined;
  private markKey: Buffer | undefined;

  constructor(@Inject(HUB_CONFIG) private readonly config: HubConfig) {}

  /** The keyed marker, `<redacted:hmac:1a2b3c4d>`. */
  marker(): Marker {
    this.mark ??= keyedMarker(this.markerKey());
    return this.mark;
  }

  /** The key of {@link marker}: render workers rebuild the marker from it with keyedMarker (a function cannot cross threads). */
  markerKey(): Buffer {
    this.markKey ??= this.key();
    return this.markKey;
  }

  /** A stored AppSet document as the API may show it (revision YAML, revision diffs). */
  document(document: AppSetDocument): AppSetDocument {
    return redactAppSetDocument(document, this.marker());
  }

  private key(): Buffer {
    const configured = this.config.secrets.redactionKey;
    if (configured) return configured;
    let base: Buffer | undefined;
    try {
      base = resolveEncryptionKey(this.config.agentLinkTls.caEncryptionKey, this.config.dataDir);
    } catch {
      base = undefined;
    }
    if (base) return Buffer.from(hkdfSync('sha256', base, Buffer.alloc(0), DERIVATION_INFO, 32));
    this.log.warn('neither FLOTILLA_REDACTION_KEY nor a CA encryption key is available: redaction markers use a key of this process (they differ between replicas and restarts)');
    return randomBytes(32);
  }
}
