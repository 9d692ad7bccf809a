import type { Logger } from '@nestjs/common';
import { Client } from 'pg';

const RETRY_MS = 5000;

/**
 * One dedicated connection that LISTENs on a PostgreSQL channel and calls `onNotify` for each
 * notification; reconnects after a loss. Notifications are a fast path only: whoever listens also
 * polls, since a notification sent while the connection is down is gone.
 */
export class NotificationListener {
  private client: Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly onNotify: () => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', () => this.onNotify());
    client.on('error', (error) => {
      this.log.warn(`listener on ${this.channel} lost (${error.message}); polling continues, reconnecting`);
      this.client = undefined;
      void client.end().catch(() => undefined);
      this.scheduleRetry();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      if (this.stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
    } catch (error) {
      this.log.warn(`cannot LISTEN on ${this.channel} (${String(error)}); polling continues, retrying`);
      await client.end().catch(() => undefined);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), RETRY_MS);
    this.retry.unref();
  }
}
