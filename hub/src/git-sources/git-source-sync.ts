import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';
import { stageApps } from '../app-sets/app-set-staging';
import { AppSetsService, lockKey, type ApplyAppSetOutcome } from '../app-sets/app-sets.service';
import { AuditService } from '../audit/audit.service';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { gitSourcePrincipal } from '../core/auth/principal';
import { collectSourceDocuments, DEFAULT_SOURCE_FILE_LIMITS, type SourceDocument } from '../core/gitops/source-documents';
import { issue, type Issue } from '../core/issues';
import { Metrics } from '../observability/metrics';
import { verifyCommit } from '../git/verify-commit';
import { GitSourceEntity } from './git-source.entity';
import { GitSourceReader, type SourceCommit } from './source-reader';

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
 * One sync of a Git source: fetch its revision, refuse a rewritten history or an unsigned commit
 * (audited), collect the AppSet documents, and apply them (with the removal of AppSets gone from Git)
 * as one change; or record on the source why nothing was applied. When it runs (the claim loop,
 * syncGitSource) is the Git sources service's business.
 */
@Injectable()
export class GitSourceSync {
  private readonly log = new Logger('GitSources');
  private readonly reader: GitSourceReader;
  private readonly gitTimeoutMs: number;

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

  /** Syncs one source: reads its revision, checks it, and applies its documents as one change (or records why not). */
  async run(source: GitSourceEntity, options: SyncOptions): Promise<SyncOutcome> {
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
              const refused = await stageRemoval(tx, appSet, options.force === true, `removed from Git source "${source.name}" at ${commit.sha.slice(0, 12)}`);
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

  private async recordFailure(source: GitSourceEntity, outcome: Extract<SyncOutcome, { kind: 'failed' | 'refused' }>): Promise<void> {
    await this.db.getRepository(GitSourceEntity).update(
      { id: source.id },
      { lastError: outcome.reason.slice(0, 4000), issues: outcome.kind === 'refused' ? outcome.issues.slice(0, 100) : [], consecutiveFailures: () => 'consecutive_failures + 1' },
    );
  }

  private async auditRefusal(source: GitSourceEntity, commit: SourceCommit, reason: string): Promise<void> {
    await this.audit.record({ principal: gitSourcePrincipal(source.name, source.project), kind: 'gitSourceSync', project: source.project, message: `refused ${commit.sha}`, outcome: 'DENIED', reason, remoteAddress: '' });
  }
}

/** Rolls a sync's transaction back when the deletion breaker holds an AppSet's removal. */
class RemovalRefused extends Error {}

/** Stages the removal of every App of `appSet` (the deletion breaker decides unless `force`): the number of Apps, or the breaker's issue. */
export async function stageRemoval(tx: EntityManager, appSet: AppSetEntity, force: boolean, why: string): Promise<number | Issue> {
  const staged: { n: string }[] = await tx.query('SELECT count(*) AS n FROM apps WHERE app_set_id = $1 AND staged_revision IS NOT NULL', [appSet.id]);
  const outcome = await stageApps(tx, appSet, appSet.currentRevision, [], force);
  if (outcome.issues.length > 0) {
    const message = `AppSet "${appSet.name}" is gone from Git, which would remove its ${staged[0]?.n ?? 0} Apps; the deletion breaker holds that. Sync with force: true to confirm.`;
    return { ...issue('DELETION_BREAKER', 'metadata.name', message) };
  }
  await tx.update(AppSetEntity, { id: appSet.id }, { removedAt: () => 'now()', condition: `${why}: its Apps are staged for removal; a rollout removes them from the clusters.` });
  return Number(staged[0]?.n ?? 0);
}
