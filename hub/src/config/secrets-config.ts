/** How the hub redacts secret values it shows. The key stays in this object and is never logged. */
export interface SecretsConfig {
  /**
   * FLOTILLA_REDACTION_KEY, decoded (32 bytes): the HMAC key of redaction markers
   * (`<redacted:hmac:1a2b3c4d>`). Undefined: derived from the CA encryption key (FLOTILLA_CA_ENCRYPTION_KEY
   * or the one the hub keeps in its data folder), so replicas that share that key show the same markers.
   */
  readonly redactionKey: Buffer | undefined;
}

/** Reads FLOTILLA_REDACTION_KEY, appending to `problems`; the value is never echoed. */
export function loadSecretsConfig(env: Record<string, string | undefined>, problems: string[]): SecretsConfig {
  const text = env['FLOTILLA_REDACTION_KEY']?.trim() || undefined;
  if (text === undefined) return { redactionKey: undefined };
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (key?.length !== 32) {
    problems.push('FLOTILLA_REDACTION_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`); value not shown');
    return { redactionKey: undefined };
  }
  return { redactionKey: key };
}
