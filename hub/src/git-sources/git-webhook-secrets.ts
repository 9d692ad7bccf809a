import { readFile, stat } from 'node:fs/promises';
import { MAX_GIT_WEBHOOK_SECRETS_FILE_BYTES, parseGitWebhookSecrets } from '../config/git-webhook-config';
import type { GitWebhookSecrets } from '../core/gitops/read-webhook-delivery';

/**
 * The secrets file (FLOTILLA_GIT_WEBHOOK_SECRETS_FILE), read again whenever it changes (a Kubernetes
 * Secret mounted as a volume is replaced in place on rotation). Checking costs one `stat` per
 * delivery. A file that becomes unreadable or invalid refuses every delivery (the hub fails closed:
 * the old secrets may be why it was rotated) until it is fixed.
 */
export class GitWebhookSecretsFile {
  private cached: { readonly version: string; readonly result: GitWebhookSecrets | Error } | undefined;

  constructor(private readonly path: string | undefined) {}

  /** The secrets now in the file ({} without a file). Throws an Error that names the file and the problems, never a secret. */
  async current(): Promise<GitWebhookSecrets> {
    if (this.path === undefined) return {};
    let version: string;
    let size: number;
    try {
      const info = await stat(this.path);
      version = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
      size = info.size;
    } catch (error) {
      throw new Error(`the webhook secrets file ${this.path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (this.cached?.version !== version) this.cached = { version, result: await this.read(size) };
    if (this.cached.result instanceof Error) throw this.cached.result;
    return this.cached.result;
  }

  private async read(size: number): Promise<GitWebhookSecrets | Error> {
    if (size > MAX_GIT_WEBHOOK_SECRETS_FILE_BYTES) return new Error(`the webhook secrets file ${this.path} is larger than ${MAX_GIT_WEBHOOK_SECRETS_FILE_BYTES} bytes`);
    let text: string;
    try {
      text = await readFile(this.path!, 'utf8');
    } catch (error) {
      return new Error(`the webhook secrets file ${this.path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const parsed = parseGitWebhookSecrets(text);
    return parsed.kind === 'ok' ? parsed.secrets : new Error(`the webhook secrets file ${this.path} is not valid: ${parsed.problems.join('; ')}`);
  }
}
