import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, In, IsNull } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';
import { lockKey } from '../app-sets/app-sets.service';
import { requireOperator } from '../auth/require';
import { canRead, readableProjects, type Principal } from '../core/auth/principal';
import { normaliseRepoURL } from '../core/gitops/repo-url';
import { checkSourceSettings } from '../core/gitops/source-documents';
import { issue, type Issue } from '../core/issues';
import { DEFAULT_PROJECT } from '../core/projects/project-rule';
import { FlotillaError } from '../errors';
import { returnedRows } from '../database/sql';
import { validateKeys } from '../git/verify-commit';
import { GitSourceEntity } from './git-source.entity';
import { GitSourceSync, stageRemoval, type SyncOptions, type SyncOutcome } from './git-source-sync';
import type { GitPushTargets } from './push-targets';

/** How often each replica looks for due syncs. */
const TICK_MS = 1_000;
/** Syncs one replica runs at once. */
const MAX_CONCURRENT_SYNCS = 2;
/** Most sources one tick claims. */
const CLAIM_BATCH = 4;

/**
 * Git sources: the fleet's AppSet documents live in a repository, and the hub applies them. Every
 * replica runs a bounded loop that claims due sources in the database (a poll whose time has come,
 * or a sync a webhook asked for), so that one replica syncs a source at a time; the apply itself
 * re-checks, under the source's row lock, that no other sync applied meanwhile, so one commit is
 * never applied twice. A sync applies all of a commit's documents as one change, or nothing.
 */
@Injectable()
export class GitSourcesService implements GitPushTargets, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('GitSources');
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;
  private ticking = false;

  constructor(
    private readonly db: DataSource,
    private readonly syncs: GitSourceSync,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(TICK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
  }

  // ---- the API ----

  async add(principal: Principal, input: { name: string; project: string; repoURL: string; revision: string; path: string; interval: string; requireSignedBy: readonly string[] }): Promise<{ source: GitSourceEntity | null; issues: Issue[] }> {
    const project = input.project || DEFAULT_PROJECT;
    if (!canRead(principal, project)) return { source: null, issues: [issue('PROJECT_NOT_FOUND', 'project', `Project "${project}" does not exist; an admin creates it with createProject.`)] };
    requireOperator(principal, project, `add Git sources to project "${project}"`);
    const checked = checkSourceSettings(input);
    const issues = [...checked.issues, ...this.checkKeys(input.requireSignedBy)];
    if (issues.length > 0) return { source: null, issues };
    if (await this.db.getRepository(GitSourceEntity).existsBy({ name: input.name })) {
      return { source: null, issues: [issue('ALREADY_EXISTS', 'name', `A Git source named "${input.name}" already exists.`)] };
    }
    const source = await this.db.getRepository(GitSourceEntity).save(
      Object.assign(new GitSourceEntity(), {
        name: input.name,
        project,
        repoURL: input.repoURL,
        revision: input.revision,
        path: checked.path,
        intervalSeconds: checked.intervalSeconds,
        requireSignedBy: [...input.requireSignedBy],
        createdBy: principal.actor,
        nextPollAt: new Date(),
        syncRequestedAt: new Date(),
      }),
    );
    this.wake();
    return { source, issues: [] };
  }

  async update(
    principal: Principal,
    input: { name: string; repoURL?: string | null; revision?: string | null; path?: string | null; interval?: string | null; requireSignedBy?: readonly string[] | null },
  ): Promise<{ source: GitSourceEntity | null; issues: Issue[] }> {
    const current = await this.getVisible(principal, input.name);
    requireOperator(principal, current.project, `change Git sources of project "${current.project}"`);
    const interval = input.interval ?? formatSeconds(current.intervalSeconds);
    const next = { name: current.name, repoURL: input.repoURL ?? current.repoURL, revision: input.revision ?? current.revision, path: input.path ?? current.path, interval };
    const checked = checkSourceSettings(next);
    const keys = input.requireSignedBy ?? current.requireSignedBy;
    const issues = [...checked.issues, ...this.checkKeys(keys)];
    if (issues.length > 0) return { source: null, issues };
    const moved = next.repoURL !== current.repoURL || next.revision !== current.revision;
    await this.db.getRepository(GitSourceEntity).update(
      { id: current.id },
      {
        repoURL: next.repoURL,
        revision: next.revision,
        path: checked.path,
        intervalSeconds: checked.intervalSeconds,
        requireSignedBy: [...keys],
        // Another repository or revision is a new history: the next commit need not descend from the last.
        ...(moved ? { baseCommit: null } : {}),
        syncRequestedAt: new Date(),
      },
    );
    this.wake();
    return { source: await this.db.getRepository(GitSourceEntity).findOneByOrFail({ id: current.id }), issues: [] };
  }

  /**
   * Removes a source. Its AppSets are kept and managed through the API from then on (`keepAppSets`),
   * or removed: their Apps staged for removal (the operator asked for it; a rollout removes them).
   */
  async remove(principal: Principal, name: string, keepAppSets: boolean): Promise<{ kept: string[]; removed: string[]; removedApps: number }> {
    const source = await this.getVisible(principal, name);
    requireOperator(principal, source.project, `remove Git sources of project "${source.project}"`);
    return this.db.transaction(async (tx) => {
      const owned = await tx.find(AppSetEntity, { where: { sourceId: source.id }, order: { name: 'ASC' } });
      for (const key of owned.map((a) => lockKey(a.project, a.name)).sort()) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
      let removedApps = 0;
      const removed: string[] = [];
      if (!keepAppSets) {
        for (const appSet of owned.filter((a) => a.removedAt === null)) {
          const staged = await stageRemoval(tx, appSet, true, `removed with Git source "${source.name}"`);
          removedApps += typeof staged === 'number' ? staged : 0;
          removed.push(appSet.name);
        }
      }
      await tx.update(AppSetEntity, { sourceId: source.id }, { sourceId: null });
      await tx.delete(GitSourceEntity, { id: source.id });
      return { kept: keepAppSets ? owned.filter((a) => a.removedAt === null).map((a) => a.name) : [], removed, removedApps };
    });
  }

  /** Syncs the source now, on this replica, and returns the outcome with the source's status after it. */
  async syncNow(principal: Principal, name: string, options: SyncOptions): Promise<{ outcome: SyncOutcome; source: GitSourceEntity }> {
    const source = await this.getVisible(principal, name);
    requireOperator(principal, source.project, `sync Git sources of project "${source.project}"`);
    const outcome = await this.track(this.syncs.run(source, options));
    return { outcome, source: await this.db.getRepository(GitSourceEntity).findOneByOrFail({ id: source.id }) };
  }

  async list(principal: Principal): Promise<GitSourceEntity[]> {
    const projects = readableProjects(principal);
    if (projects !== 'all' && projects.length === 0) return [];
    return this.db.getRepository(GitSourceEntity).find({ where: projects === 'all' ? {} : { project: In(projects) }, order: { name: 'ASC' } });
  }

  /** The source, or NOT_FOUND (a source of a project the caller cannot see looks missing). */
  async getVisible(principal: Principal, name: string): Promise<GitSourceEntity> {
    const source = await this.db.getRepository(GitSourceEntity).findOneBy({ name });
    if (!source || !canRead(principal, source.project)) throw new FlotillaError('NOT_FOUND', `Git source "${name}" does not exist.`);
    return source;
  }

  /** The names of the AppSets each source manages (removed ones left out). */
  async appSetNames(sourceIds: readonly string[]): Promise<Map<string, string[]>> {
    const rows = sourceIds.length === 0 ? [] : await this.db.getRepository(AppSetEntity).find({ where: { sourceId: In([...sourceIds]), removedAt: IsNull() }, order: { name: 'ASC' } });
    const names = new Map<string, string[]>();
    for (const row of rows) names.set(row.sourceId!, [...(names.get(row.sourceId!) ?? []), row.name]);
    return names;
  }

  /** The name of each source id (for AppSet.source). */
  async namesOf(ids: readonly string[]): Promise<Map<string, string>> {
    const rows = ids.length === 0 ? [] : await this.db.getRepository(GitSourceEntity).find({ select: { id: true, name: true }, where: { id: In([...ids]) } });
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  // ---- webhooks ----

  async sourcesForPush(repoURLs: readonly string[], ref: string): Promise<readonly { name: string; project: string }[]> {
    const wanted = new Set(repoURLs.map(normaliseRepoURL).filter((url) => url !== undefined));
    const sources = await this.db.getRepository(GitSourceEntity).find({ select: { name: true, project: true, repoURL: true, revision: true } });
    return sources.filter((s) => wanted.has(normaliseRepoURL(s.repoURL) ?? '') && followsRef(s.revision, ref)).map((s) => ({ name: s.name, project: s.project }));
  }

  requestSync(name: string, cause: string): void {
    // Any replica may run it: the request is a row flag, and many requests before the sync starts are one.
    void this.db
      .getRepository(GitSourceEntity)
      .update({ name }, { syncRequestedAt: () => 'now()' })
      .then(() => this.wake())
      .catch((error: unknown) => this.log.error(`could not request a sync of Git source ${name} (${cause}): ${error instanceof Error ? error.message : String(error)}`));
  }

  // ---- the loop ----

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private wake(): void {
    this.schedule(0);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      const room = MAX_CONCURRENT_SYNCS - this.running.size;
      if (room > 0) for (const source of await this.claim(Math.min(room, CLAIM_BATCH))) void this.track(this.syncs.run(source, {}));
    } catch (error) {
      this.log.error(`claiming due Git sources failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.ticking = false;
      this.schedule(TICK_MS);
    }
  }

  /** Claims due sources: moves their next poll forward and clears their request, so no other replica takes them now. */
  private async claim(limit: number): Promise<GitSourceEntity[]> {
    const rows = returnedRows<{ id: string }>(
      await this.db.query(
      `UPDATE git_sources SET next_poll_at = now() + make_interval(secs => interval_seconds), sync_requested_at = NULL
       WHERE id IN (SELECT id FROM git_sources WHERE next_poll_at <= now() OR sync_requested_at IS NOT NULL ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
        [limit],
      ),
    );
    if (rows.length === 0) return [];
    return this.db.getRepository(GitSourceEntity).findBy({ id: In(rows.map((r) => r.id)) });
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    void work.finally(() => this.running.delete(work)).catch(() => undefined);
    return work;
  }

  private checkKeys(keys: readonly string[]): Issue[] {
    return validateKeys(keys, 'requireSignedBy');
  }
}

/** Whether a source following `revision` follows a push to `ref`. */
function followsRef(revision: string, ref: string): boolean {
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(revision)) return false;
  if (revision === 'HEAD') return ref.startsWith('refs/heads/');
  return ref === revision || ref === `refs/heads/${revision}` || ref === `refs/tags/${revision}`;
}

function formatSeconds(seconds: number): string {
  return `${seconds}s`;
}
