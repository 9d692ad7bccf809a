import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CREDENTIAL_REVOKED_CHANNEL } from '../clusters/credential-revocation';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { NotificationListener } from '../database/notification-listener';
import { AgentSessions } from './agent-sessions';

/**
 * Period of the check. A credential revoked (or a cluster deleted) through any replica is cut on
 * every replica within this period plus one query, even when no notification arrives.
 */
export const CREDENTIAL_CHECK_MS = 1000;

/**
 * Cuts the live agent streams of this replica whose credential no longer holds: revoked
 * (revokeAgentCredentials, a re-installed agent enrolled) or gone with its cluster (deregisterCluster).
 *
 * One query per check, whatever the number of streams: the credential ids of every live stream go in
 * one array, and the rows still valid come back. Checks run every {@link CREDENTIAL_CHECK_MS} while
 * the replica holds streams (none while it holds none), and at once on a PostgreSQL notification
 * from the replica that revoked; wake-ups during a check coalesce into one more check.
 */
@Injectable()
export class AgentCredentialCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AgentLink');
  private timer: NodeJS.Timeout | undefined;
  private listener: NotificationListener | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    private readonly sessions: AgentSessions,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), CREDENTIAL_CHECK_MS);
    this.timer.unref();
    // The embedded database serves one replica, whose revocations cut its streams directly.
    if (this.config.databaseUrl) {
      this.listener = new NotificationListener(this.config.databaseUrl, CREDENTIAL_REVOKED_CHANNEL, () => this.wake(), this.log);
      this.listener.start();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.listener?.stop();
    await this.running;
  }

  /** Schedules a check now; wake-ups during a check make it run once more. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.check()
      .catch((error: unknown) => this.log.warn(`agent credential check failed (retried in ${CREDENTIAL_CHECK_MS} ms): ${String(error)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async check(): Promise<void> {
    const live = this.sessions.list();
    if (live.length === 0) return;
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM agent_tokens WHERE id = ANY($1::uuid[]) AND kind IN ('credential', 'certificate') AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`, [
      [...new Set(live.map((s) => s.credentialId))],
    ]);
    const valid = new Set(rows.map((r) => r.id));
    for (const session of live) {
      // Only the session checked: a newer stream of the same cluster may have replaced it meanwhile.
      if (!valid.has(session.credentialId) && this.sessions.get(session.clusterId) === session) {
        session.revoke('its credential was revoked or its cluster deregistered');
      }
    }
  }
}
