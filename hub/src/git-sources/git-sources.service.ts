import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';
import { stageApps } from '../app-sets/app-set-staging';
import { AppSetsService, lockKey, type ApplyAppSetOutcome } from '../app-sets/app-sets.service';
import { AuditService } from '../audit/audit.service';
import { requireOperator } from '../auth/require';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { canRead, gitSourcePrincipal, readableProjects, type Principal } from '../core/auth/principal';
import { normaliseRepoURL } from '../core/gitops/repo-url';
import { checkSourceSettings, collectSourceDocuments, DEFAULT_SOURCE_FILE_LIMITS, type SourceDocument } from '../core/gitops/source-documents';
import { issue, type Issue } from '../core/issues';
import { DEFAULT_PROJECT } from '../core/projects/project-rule';
import { FlotillaError } from '../errors';
import { Metrics } from '../observability/metrics';
import { returnedRows } from '../database/sql';
import { validateKeys, verifyCommit } from '../git/verify-commit';
import { GitSourceEntity } from './git-source.entity';
import type { GitPushTargets } from './push-targets';
import { GitSourceReader, type SourceCommit } from './source-reader';

/** How often each replica looks for due syncs. */
const TICK_MS = 1_000;
/** Syncs one replica runs at once. */
const MAX_CONCURRENT_SYNCS = 2;
/** Most sources one tick claims. */
const CLAIM_BATCH = 4;

/** What one sync did. */
export type SyncOutcome =
  | { readonly kind: 'applied'; readonly commit: string; readonly changed: readonly string[]; readonly removed: readonly string[] }
  | { readonly kind: 'unchanged'; readonly commit: string }
  | { readonly kind: 'refused'; readonly commit?: string; readonly reason: string; readonly issues: readonly Issue[] }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'superseded' };

/** What a sync may override. */
export interface SyncOptions {
  /** Apply a commit that does not descend from the last applied one (a force-push the operator accepts). */
  readonly acceptHistoryRewrite?: boolean;
  /** Apply even if the deletion breaker trips (AppSets removed from Git, or many Apps gone). */
  readonly force?: boolean;
}

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
  private readonly reader: GitSourceReader;
  private readonly gitTimeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;
  private ticking = false;

  constructor(
    private readonly db: DataSource,
    private readonly appSets: AppSetsService,
    private readonly audit: AuditService,
    private readonly metrics: Metrics,
    @Inject(HUB_CONFIG) config: HubConfig,
  ) {
    this.reader = new GitSourceReader(config, DEFAULT_SOURCE_FILE_LIMITS);
    this.gitTimeoutMs = config.localAccess.gitTimeoutSeconds * 1000;
  }

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
          const staged = await this.stageRemoval(tx, appSet, true, `removed with Git source "${source.name}"`);
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
    const outcome = await this.track(this.sync(source, options));
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
      if (room > 0) for (const source of await this.claim(Math.min(room, CLAIM_BATCH))) void this.track(this.sync(source, {}));
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

  // ---- one sync ----

  private async sync(source: GitSourceEntity, options: SyncOptions): Promise<SyncOutcome> {
    const started = performance.now();
    let outcome: SyncOutcome;
    try {
      outcome = await this.syncOnce(source, options);
    } catch (error) {
      outcome = { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
      this.log.error(`Git source ${source.name}: ${outcome.reason}`);
    }
    this.metrics.gitSourceSyncs.observe({ source: source.name, outcome: outcome.kind }, (performance.now() - started) / 1000);
    if (outcome.kind === 'failed' || outcome.kind === 'refused') {
      this.metrics.gitSourceFailures.inc({ source: source.name, reason: outcome.kind === 'refused' && outcome.issues[0] ? outcome.issues[0].code : outcome.kind });
      await this.recordFailure(source, outcome);
    }
    return outcome;
  }

  private async syncOnce(source: GitSourceEntity, options: SyncOptions): Promise<SyncOutcome> {
    const read = await this.reader.read(source.repoURL, source.revision, source.path);
    if ('error' in read) return { kind: 'failed', reason: read.error };
    const commit = read.commit;
    await this.db.getRepository(GitSourceEntity).update({ id: source.id }, { lastSeenCommit: commit.sha, lastSyncAt: () => 'now()' });
    if (commit.sha === source.lastAppliedCommit && !options.force && source.lastError === '') return { kind: 'unchanged', commit: commit.sha };

    if (source.baseCommit !== null && source.baseCommit !== commit.sha && !options.acceptHistoryRewrite && !(await this.reader.descends(source.repoURL, source.baseCommit, commit.sha))) {
      const message = `${source.revision} moved to ${commit.sha.slice(0, 12)}, which does not descend from the last applied commit ${source.baseCommit.slice(0, 12)}: the history was rewritten (a force-push). Nothing was applied; syncGitSource(name: "${source.name}", acceptHistoryRewrite: true) accepts it.`;
      await this.auditRefusal(source, commit, message);
      return { kind: 'refused', commit: commit.sha, reason: message, issues: [issue('HISTORY_REWRITTEN', 'revision', message)] };
    }

    if (source.requireSignedBy.length > 0) {
      // Only a commit signed by a listed key is applied; the check runs on the commit the files were read at.
      const verdict = await verifyCommit(read.dir, commit.sha, source.requireSignedBy, { timeoutMs: this.gitTimeoutMs });
      if (!verdict.ok) {
        await this.auditRefusal(source, commit, verdict.reason);
        return { kind: 'refused', commit: commit.sha, reason: `${verdict.reason}; nothing was applied`, issues: [issue('COMMIT_NOT_SIGNED', 'requireSignedBy', verdict.reason)] };
      }
    }

    const collected = collectSourceDocuments(read.files, source.project);
    const issues = [...read.refused.map((message) => issue('SOURCE_TOO_LARGE', 'path', message)), ...collected.issues];
    if (issues.length > 0) return { kind: 'refused', commit: commit.sha, reason: `${issues.length} problem${issues.length === 1 ? '' : 's'} in ${commit.sha.slice(0, 12)}; nothing was applied`, issues };
    return this.apply(source, commit, collected.documents, options);
  }

  /** Applies the commit's documents and the removal of AppSets gone from it, as one change. */
  private async apply(source: GitSourceEntity, commit: SourceCommit, documents: readonly SourceDocument[], options: SyncOptions): Promise<SyncOutcome> {
    const seenApplied = source.lastAppliedCommit;
    const present = new Set(documents.map((d) => d.document.metadata.name));
    const removed: string[] = [];
    const removalIssues: Issue[] = [];
    let superseded = false;
    const { applied, outcomes } = await this.appSets.applyDocuments(
      documents.map((d) => d.document),
      {
        author: `git:${source.name}`,
        message: commit.subject,
        force: options.force === true,
        commit,
        sourceId: source.id,
        within: {
          before: async (tx) => {
            const rows: { last_applied_commit: string | null }[] = await tx.query('SELECT last_applied_commit FROM git_sources WHERE id = $1 FOR UPDATE', [source.id]);
            // Removed meanwhile, or another sync applied since this one read: its commit is as new or newer.
            superseded = rows.length === 0 || rows[0]!.last_applied_commit !== seenApplied;
            return !superseded;
          },
          after: async (tx, applyOutcomes) => {
            for (const appSet of await tx.find(AppSetEntity, { where: { sourceId: source.id, removedAt: IsNull() }, order: { name: 'ASC' } })) {
              if (present.has(appSet.name)) continue;
              await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(appSet.project, appSet.name)]);
              const refused = await this.stageRemoval(tx, appSet, options.force === true, `removed from Git source "${source.name}" at ${commit.sha.slice(0, 12)}`);
              if (typeof refused === 'number') removed.push(appSet.name);
              else removalIssues.push(refused);
            }
            if (removalIssues.length > 0) throw new RemovalRefused();
            await tx.update(GitSourceEntity, { id: source.id }, { lastAppliedCommit: commit.sha, lastAppliedAt: () => 'now()', baseCommit: commit.sha, lastError: '', issues: [], consecutiveFailures: 0 });
            void applyOutcomes;
          },
        },
      },
    ).catch((error: unknown) => {
      if (error instanceof RemovalRefused) return { applied: false, outcomes: [] as ApplyAppSetOutcome[] };
      throw error;
    });
    if (superseded) return { kind: 'superseded' };
    if (removalIssues.length > 0) return { kind: 'refused', commit: commit.sha, reason: 'the deletion breaker holds the removal of AppSets gone from Git', issues: removalIssues };
    if (!applied) {
      const found = outcomes.flatMap((outcome, i) => outcome.issues.map((problem) => ({ ...problem, file: problem.file ?? documents[i]?.file })));
      return { kind: 'refused', commit: commit.sha, reason: `${found.length} problem${found.length === 1 ? '' : 's'} in ${commit.sha.slice(0, 12)}; nothing was applied`, issues: found };
    }
    const changed = outcomes.filter((o) => o.changed && o.appSet).map((o) => o.appSet!.name);
    if (changed.length > 0 || removed.length > 0) {
      this.log.log(`Git source ${source.name}: applied ${commit.sha.slice(0, 12)} (${changed.length} AppSet${changed.length === 1 ? '' : 's'} changed, ${removed.length} removed)`);
      await this.audit.record({
        principal: gitSourcePrincipal(source.name, source.project),
        kind: 'gitSourceSync',
        project: source.project,
        message: `applied ${commit.sha} "${commit.subject.slice(0, 200)}"${changed.length ? ` changed=${changed.join(',')}` : ''}${removed.length ? ` removed=${removed.join(',')}` : ''}`,
        outcome: 'SUCCESS',
        reason: '',
        remoteAddress: '',
      });
    }
    return { kind: 'applied', commit: commit.sha, changed, removed };
  }

  /** Stages the removal of every App of `appSet` (the deletion breaker decides unless `force`): the number of Apps, or the breaker's issue. */
  private async stageRemoval(tx: EntityManager, appSet: AppSetEntity, force: boolean, why: string): Promise<number | Issue> {
    const staged: { n: string }[] = await tx.query('SELECT count(*) AS n FROM apps WHERE app_set_id = $1 AND staged_revision IS NOT NULL', [appSet.id]);
    const outcome = await stageApps(tx, appSet, appSet.currentRevision, [], force);
    if (outcome.issues.length > 0) {
      const message = `AppSet "${appSet.name}" is gone from Git, which would remove its ${staged[0]?.n ?? 0} Apps; the deletion breaker holds that. Sync with force: true to confirm.`;
      return { ...issue('DELETION_BREAKER', 'metadata.name', message) };
    }
    await tx.update(AppSetEntity, { id: appSet.id }, { removedAt: () => 'now()', condition: `${why}: its Apps are staged for removal; a rollout removes them from the clusters.` });
    return Number(staged[0]?.n ?? 0);
  }

  private async recordFailure(source: GitSourceEntity, outcome: Extract<SyncOutcome, { kind: 'failed' | 'refused' }>): Promise<void> {
    await this.db.getRepository(GitSourceEntity).update(
      { id: source.id },
      { lastError: outcome.reason.slice(0, 4000), issues: outcome.kind === 'refused' ? outcome.issues.slice(0, 100) : [], consecutiveFailures: () => 'consecutive_failures + 1' },
    );
  }

  private async auditRefusal(source: GitSourceEntity, commit: SourceCommit, reason: string): Promise<void> {
    await this.audit.record({ principal: gitSourcePrincipal(source.name, source.project), kind: 'gitSourceSync', project: source.project, message: `refused ${commit.sha}`, outcome: 'DENIED', reason, remoteAddress: '' });
  }

  private checkKeys(keys: readonly string[]): Issue[] {
    return validateKeys(keys, 'requireSignedBy');
  }
}

/** Rolls a sync's transaction back when the deletion breaker holds an AppSet's removal. */
class RemovalRefused extends Error {}

/** Whether a source following `revision` follows a push to `ref`. */
function followsRef(revision: string, ref: string): boolean {
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(revision)) return false;
  if (revision === 'HEAD') return ref.startsWith('refs/heads/');
  return ref === revision || ref === `refs/heads/${revision}` || ref === `refs/tags/${revision}`;
}

function formatSeconds(seconds: number): string {
  return `${seconds}s`;
}
