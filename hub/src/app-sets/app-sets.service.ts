import { Injectable } from '@nestjs/common';
import { canonicalJson, sha256Hex } from '@flotilla/proto';
import { createTwoFilesPatch } from 'diff';
import { DataSource, In, type EntityManager } from 'typeorm';
import { stringify } from 'yaml';
import { ClustersService } from '../clusters/clusters.service';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import { parseAppSet } from '../core/app-set/parse-app-set';
import type { AppExplain } from '../core/expand-app-set';
import { EMPTY_GIT_SNAPSHOT, readsGit, type GitSnapshot } from '../core/generators/git-snapshot';
import type { ClusterSnapshot } from '../core/generators/param-set';
import { issue, type Issue } from '../core/issues';
import { checkDeletionBreaker } from '../core/safety/deletion-breaker';
import type { AppSetPreview } from '../core/preview/preview-app-set';
import type { StagedManifests } from '../render-pool/render-task';
import { requireOperator } from '../auth/require';
import { canRead, readableProjects, type Principal } from '../core/auth/principal';
import { DEFAULT_PROJECT } from '../core/projects/project-rule';
import { FlotillaError } from '../errors';
import { AppSetExpander, type ResolvedExpansion } from './app-set-expander';
import { AutoTriggerHook } from '../rollouts/auto-trigger-hook';
import { AppSetRevisionEntity } from './app-set-revision.entity';
import { AppSetEntity } from './app-set.entity';
import { stageApps, type StageOutcome } from './app-set-staging';
import { bundleColumns, decodeBundles, type StoredBundleColumns } from './manifest-bundles';
import type { ApplyAppSetOutcome, ApplyDocumentsOptions, ApplyDocumentsOutcome } from './apply-options';

export type { ApplyAppSetOutcome, ApplyDocumentsOptions, ApplyDocumentsOutcome, RevisionCommit } from './apply-options';

@Injectable()
export class AppSetsService {
  constructor(
    private readonly db: DataSource,
    private readonly clusters: ClustersService,
    private readonly expander: AppSetExpander,
    private readonly autoTrigger: AutoTriggerHook,
  ) {}

  /**
   * Stores an AppSet document as a new immutable revision and stages its Apps on every target cluster.
   * All or nothing: a document or expansion with any issue stores and stages nothing. Staging sends
   * nothing to clusters; a rollout releases what is staged. An AppSet that a Git source owns is
   * changed through its repository only (FAILED_PRECONDITION naming the source).
   */
  async apply(yaml: string, principal: Principal, message = '', force = false): Promise<ApplyAppSetOutcome> {
    const parsed = parseAppSet(yaml);
    if (!parsed.ok) return { appSet: null, issues: parsed.issues, changed: false };
    const document = parsed.value;
    const project = document.metadata.project ?? DEFAULT_PROJECT;
    const refused = this.checkProject(principal, project, 'change');
    if (refused) return { appSet: null, issues: [refused], changed: false };
    await this.refuseIfOwned(project, document.metadata.name);
    const { outcomes } = await this.applyDocuments([document], { author: principal.actor, message, force });
    return outcomes[0]!;
  }

  /** FAILED_PRECONDITION when a Git source owns the AppSet: its repository is where it changes. */
  async refuseIfOwned(project: string, name: string): Promise<void> {
    const rows: { source: string }[] = await this.db.query(
      `SELECT g.name AS source FROM app_sets s JOIN git_sources g ON g.id = s.source_id WHERE s.project = $1 AND s.name = $2`,
      [project, name],
    );
    const source = rows[0]?.source;
    if (source !== undefined) {
      throw new FlotillaError('FAILED_PRECONDITION', `AppSet "${name}" is managed by Git source "${source}": change it in the source's repository (or remove the source with keepAppSets: true to manage it here).`);
    }
  }

  /**
   * Applies several documents as one change: every document is parsed and expanded first (Git reads
   * and renders outside the transaction), then all are stored and staged in one transaction. Any issue
   * in any document applies none of them. Documents equal to their current revision store nothing.
   */
  async applyDocuments(documents: readonly AppSetDocument[], options: ApplyDocumentsOptions): Promise<ApplyDocumentsOutcome> {
    const prepared: { document: AppSetDocument; project: string; name: string; contentHash: string; git: GitSnapshot; ahead: ExpandedAhead | undefined }[] = [];
    for (const document of documents) {
      const project = document.metadata.project ?? DEFAULT_PROJECT;
      const name = document.metadata.name;
      const contentHash = sha256Hex(canonicalJson(document));
      const unchanged = await this.currentIfSame(project, name, contentHash, options.sourceId);
      // Git is read before the transaction: a fetch may take seconds and must not hold a connection and
      // the AppSet's lock meanwhile. The expansion inside reuses these commits.
      const git = unchanged ? EMPTY_GIT_SNAPSHOT : await this.readGit(document);
      const ahead = unchanged ? undefined : await this.expandAhead(document, git);
      prepared.push({ document, project, name, contentHash, git, ahead });
    }
    return this.db
      .transaction(async (tx): Promise<ApplyDocumentsOutcome> => {
        // Serialise applies of one AppSet: lock its row (or the name, for a new AppSet); in name order, so two changes never deadlock.
        for (const key of [...new Set(prepared.map((p) => lockKey(p.project, p.name)))].sort()) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
        if (options.within?.before && !(await options.within.before(tx))) return { applied: false, outcomes: [] };
        const outcomes: ApplyAppSetOutcome[] = [];
        const refusedStaging = new Set<number>();
        let failed = false;
        for (const { document, project, name, contentHash, git, ahead } of prepared) {
          let appSet = await tx.findOne(AppSetEntity, { where: { project, name } });
          if (appSet) {
            const current = await tx.findOneOrFail(AppSetRevisionEntity, { where: { appSetId: appSet.id, number: appSet.currentRevision } });
            if (current.contentHash === contentHash && appSet.removedAt === null && (options.sourceId === undefined || appSet.sourceId === options.sourceId)) {
              outcomes.push({ appSet, issues: [], changed: false });
              continue;
            }
          }
          const { expansion } = await this.expandIn(tx, document, git, ahead);
          if (expansion.issues.length > 0) {
            failed = true;
            outcomes.push({ appSet: null, issues: expansion.issues, changed: false });
            continue;
          }
          const number = (appSet?.currentRevision ?? 0) + 1;
          const owner = options.sourceId !== undefined ? { sourceId: options.sourceId } : {};
          appSet = await tx.save(tx.create(AppSetEntity, { ...(appSet ?? { name, project }), ...owner, currentRevision: number, condition: '', removedAt: null }));
          const commit = options.commit;
          await tx.save(
            Object.assign(new AppSetRevisionEntity(), {
              appSetId: appSet.id,
              number,
              document,
              contentHash,
              author: options.author,
              message: options.message,
              ...(commit ? { commitSha: commit.sha, commitAuthor: commit.author, commitSubject: commit.subject, commitTime: commit.time } : {}),
            }),
          );
          const staged = await stageApps(tx, appSet, number, expansion.apps, options.force);
          if (staged.issues.length > 0) {
            failed = true;
            outcomes.push({ appSet: null, issues: staged.issues, changed: false });
            refusedStaging.add(outcomes.length - 1);
            continue;
          }
          outcomes.push({ appSet, issues: [], changed: true });
        }
        // Roll the whole transaction back: nothing is half-applied.
        if (failed) throw new DocumentsRefused(outcomes, refusedStaging);
        await options.within?.after?.(tx, outcomes);
        return { applied: true, outcomes };
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof DocumentsRefused)) throw error;
        // A refused staging (a conflict, the deletion breaker) stays visible on an existing AppSet as its condition.
        for (const i of error.refusedStaging) await this.recordRefusal(prepared[i]!.project, prepared[i]!.name, [...error.outcomes[i]!.issues]);
        return { applied: false, outcomes: error.outcomes.map((o) => ({ appSet: null, issues: o.issues, changed: false })) };
      })
      // After the commit: new revisions whose strategy says trigger: auto start their rollouts.
      .then((result) => this.autoTrigger.applied(result));
  }

  /**
   * What applying `yaml` would stage, per cluster, without writing anything: Apps added, removed and
   * changed with unified diffs, and the issues that would refuse it (including the deletion breaker,
   * which `force` would override). Secret values in the diffs show as the marker keyed by `markerKey`
   * makes them (core/secrets).
   */
  async preview(yaml: string, principal: Principal, markerKey: Uint8Array): Promise<{ preview: AppSetPreview | null; issues: readonly Issue[] }> {
    const parsed = parseAppSet(yaml);
    if (!parsed.ok) return { preview: null, issues: parsed.issues };
    const refused = this.checkProject(principal, parsed.value.metadata.project ?? DEFAULT_PROJECT, 'preview');
    if (refused) return { preview: null, issues: [refused] };
    return this.previewOver(parsed.value, await this.clusters.snapshot(), markerKey);
  }

  /**
   * Who may apply (or preview) a document of `project`: a project the principal cannot see gets the
   * answer of a missing project; changing needs the OPERATOR role there (else PERMISSION_DENIED). AppSet
   * names are per project, so nothing of other projects' AppSets shows.
   */
  private checkProject(principal: Principal, project: string, verb: 'change' | 'preview'): Issue | undefined {
    if (!canRead(principal, project)) return issue('PROJECT_NOT_FOUND', 'metadata.project', `Project "${project}" does not exist; an admin creates it with createProject.`);
    if (verb === 'change') requireOperator(principal, project, `change AppSets of project "${project}"`);
    return undefined;
  }

  /**
   * What re-staging `document` over `clusters` would change against what is staged now (fresh Git
   * reads), with the deletion breaker's verdict as an issue. Writes nothing. Secret values in the diffs
   * show as the marker keyed by `markerKey` makes them (core/secrets). The expansion and the diffs run
   * in a render worker.
   */
  async previewOver(document: AppSetDocument, clusters: readonly ClusterSnapshot[], markerKey: Uint8Array): Promise<{ preview: AppSetPreview | null; issues: readonly Issue[] }> {
    const staged = await this.stagedApps(document.metadata.project ?? DEFAULT_PROJECT, document.metadata.name);
    const { preview, issues, stagedCount } = await this.expander.preview(document, clusters, staged, markerKey);
    if (issues.length > 0 || !preview) return { preview: null, issues };
    const breaker = checkDeletionBreaker(stagedCount, preview.totals.removed);
    return { preview, issues: breaker ? [breaker] : [] };
  }

  /** The Apps of an AppSet as staged now, manifests as stored (the render worker parses them). */
  private async stagedApps(project: string, appSetName: string): Promise<StagedManifests[]> {
    const rows: ({ cluster_name: string; name: string; staged_revision: string } & StoredBundleColumns)[] = await this.db.query(
      `SELECT c.name AS cluster_name, a.name, a.staged_revision, ${bundleColumns('b')}
       FROM apps a JOIN app_sets s ON s.id = a.app_set_id JOIN clusters c ON c.id = a.cluster_id
       JOIN manifest_bundles b ON b.revision = a.staged_revision
       WHERE s.project = $1 AND s.name = $2 AND a.staged_revision IS NOT NULL`,
      [project, appSetName],
    );
    const manifests = await decodeBundles(rows, (r) => r.staged_revision);
    return rows.map((r) => ({ clusterName: r.cluster_name, appName: r.name, revision: r.staged_revision.trim(), manifestsJson: manifests.get(r.staged_revision.trim())! }));
  }

  /**
   * The explain stored when the App was staged, or null (unknown App, staged removal, staged before
   * explain existed). An App name is unique on its cluster, whatever its AppSet.
   */
  async explain(clusterName: string, appName: string): Promise<AppExplain | null> {
    const rows: { staged_explain: AppExplain | null }[] = await this.db.query(
      `SELECT a.staged_explain FROM apps a JOIN clusters c ON c.id = a.cluster_id WHERE c.name = $1 AND a.name = $2`,
      [clusterName, appName],
    );
    return rows[0]?.staged_explain ?? null;
  }

  /** The AppSet when `contentHash` is already its current revision (an unlocked read: apply re-checks under the lock). */
  private async currentIfSame(project: string, name: string, contentHash: string, sourceId?: string): Promise<AppSetEntity | null> {
    const appSet = await this.db.getRepository(AppSetEntity).findOneBy({ project, name });
    if (!appSet || appSet.removedAt !== null || (sourceId !== undefined && appSet.sourceId !== sourceId)) return null;
    const current = await this.revision(appSet.id, appSet.currentRevision);
    return current?.contentHash === contentHash ? appSet : null;
  }

  /** Reads the Git inputs of `document` (nothing for an AppSet that reads no Git). */
  private async readGit(document: AppSetDocument): Promise<GitSnapshot> {
    if (!readsGit(document.spec)) return EMPTY_GIT_SNAPSHOT;
    return (await this.expander.expand(document, await this.clusters.snapshot())).git;
  }

  /**
   * Unified diff of two revisions' documents as YAML, each shown as `redact` makes it (secret values
   * redacted, see core/secrets); NOT_FOUND names a missing revision.
   */
  async revisionDiff(appSet: AppSetEntity, from: number, to: number, redact: (document: AppSetDocument) => AppSetDocument): Promise<string> {
    const name = appSet.name;
    const [a, b] = await Promise.all([this.revision(appSet.id, from), this.revision(appSet.id, to)]);
    const missing = !a ? from : !b ? to : undefined;
    if (missing !== undefined) throw new FlotillaError('NOT_FOUND', `AppSet "${name}" has no revision ${missing}.`);
    const yaml = (doc: AppSetDocument) => stringify(redact(doc), { sortMapEntries: true });
    return createTwoFilesPatch(`${name}@${from}`, `${name}@${to}`, yaml(a!.document), yaml(b!.document), '', '', { context: 3 });
  }

  /** Keeps a refused change visible on an existing AppSet as its condition, and returns the refusal. */
  private async recordRefusal(project: string, name: string, issues: Issue[]): Promise<ApplyAppSetOutcome> {
    const condition = issues.map((p) => `${p.code}: ${p.message}`).join('\n').slice(0, 4000);
    await this.db.getRepository(AppSetEntity).update({ project, name }, { condition });
    return { appSet: null, issues, changed: false };
  }

  /** Re-expands every AppSet at its current revision over the current clusters (after a cluster change). */
  async restageAll(): Promise<void> {
    const appSets = await this.db.getRepository(AppSetEntity).find({ order: { name: 'ASC' } });
    for (const appSet of appSets) await this.restage(appSet, false);
  }

  /**
   * Re-reads the inputs of an AppSet (clusters, and Git: a branch that moved brings new parameters)
   * and re-stages its current revision. Stores no new revision. Refused like apply: any issue, or the
   * deletion breaker unless `force`, stages nothing and is recorded as the AppSet's condition.
   */
  async refresh(target: AppSetEntity, principal: Principal, force = false): Promise<ApplyAppSetOutcome> {
    requireOperator(principal, target.project, `refresh AppSets of project "${target.project}"`);
    const { issues, changed } = await this.restage(target, force);
    const after = await this.db.getRepository(AppSetEntity).findOneBy({ id: target.id });
    if (!after) throw new FlotillaError('NOT_FOUND', `AppSet "${target.name}" does not exist.`);
    return { appSet: issues.length > 0 ? null : after, issues, changed };
  }

  private async restage(target: AppSetEntity, force: boolean): Promise<StageOutcome> {
    const latest = await this.db.getRepository(AppSetEntity).findOneBy({ id: target.id });
    const before = latest && (await this.revision(latest.id, latest.currentRevision));
    // A removed AppSet stays removed: a cluster change must not bring its Apps back.
    if (!latest || !before || latest.removedAt !== null) return { issues: [], changed: false };
    const git = await this.readGit(before.document);
    const ahead = { revision: before.number, ...(await this.expandAhead(before.document, git)) };
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(latest.project, latest.name)]);
      const appSet = await tx.findOneOrFail(AppSetEntity, { where: { id: latest.id } });
      if (appSet.removedAt !== null) return { issues: [], changed: false };
      const revision = await tx.findOneOrFail(AppSetRevisionEntity, { where: { appSetId: appSet.id, number: appSet.currentRevision } });
      const { expansion } = await this.expandIn(tx, revision.document, git, revision.number === ahead.revision ? ahead : undefined);
      // A failed re-expansion stages nothing: a transient problem (a Git read included) must never
      // remove Apps. Neither does a change that trips the deletion breaker: the AppSet records why.
      const outcome = expansion.issues.length > 0 ? { issues: [...expansion.issues], changed: false } : await stageApps(tx, appSet, revision.number, expansion.apps, force);
      const condition = outcome.issues.map((p) => `${p.code}: ${p.message}`).join('\n').slice(0, 4000);
      if (condition !== appSet.condition) await tx.update(AppSetEntity, { id: appSet.id }, { condition });
      return outcome;
    });
  }

  /**
   * Expands before the transaction: a render may take up to the render timeout, and must not hold a
   * database connection (the embedded database has one) or the AppSet's lock meanwhile. Remembers the
   * clusters and project rule it read, so that {@link expandIn} can tell whether they still hold.
   */
  private async expandAhead(document: AppSetDocument, git: GitSnapshot): Promise<ExpandedAhead> {
    const clusters = await this.clusters.snapshot();
    const inputs = canonicalJson({ clusters, project: await this.expander.projectRule(document) });
    return { inputs, expanded: await this.expander.expand(document, clusters, git) };
  }

  /**
   * The expansion of `document` as of `tx`: the one made ahead when the clusters and the project rule
   * read in the transaction are those it used, else a new one inside the transaction (a cluster or
   * project changed meanwhile; rare).
   */
  private async expandIn(tx: EntityManager, document: AppSetDocument, git: GitSnapshot, ahead: ExpandedAhead | undefined): Promise<ResolvedExpansion> {
    const clusters = await this.clusters.snapshot(tx);
    const inputs = canonicalJson({ clusters, project: await this.expander.projectRule(document, tx) });
    if (ahead && ahead.inputs === inputs) return ahead.expanded;
    return this.expander.expand(document, clusters, git, tx);
  }

  /** Re-stages every AppSet of a project (after the project's rules changed). */
  async restageProject(project: string): Promise<void> {
    const appSets = await this.db.getRepository(AppSetEntity).find({ where: { project }, order: { name: 'ASC' } });
    for (const appSet of appSets) await this.restage(appSet, false);
  }

  /** Every AppSet, by name (for the hub's own re-staging and checks; callers that answer a principal use list). */
  async listAll(): Promise<AppSetEntity[]> {
    return this.db.getRepository(AppSetEntity).find({ order: { name: 'ASC' } });
  }

  /** The AppSets the principal may see, by name. */
  async list(principal: Principal): Promise<AppSetEntity[]> {
    const projects = readableProjects(principal);
    if (projects !== 'all' && projects.length === 0) return [];
    return this.db.getRepository(AppSetEntity).find({ where: projects === 'all' ? {} : { project: In(projects) }, order: { name: 'ASC' } });
  }

  /**
   * The AppSet `name` among those the principal may see (in `project`, when given); null when there is
   * none (a missing and an invisible AppSet look the same). Names are unique per project: when the
   * principal sees two projects with an AppSet of that name, it must say which (INVALID_ARGUMENT).
   */
  async findVisible(principal: Principal, name: string, project?: string | null): Promise<AppSetEntity | null> {
    const rows = await this.db.getRepository(AppSetEntity).find({ where: project ? { name, project } : { name }, order: { project: 'ASC' } });
    const visible = rows.filter((row) => canRead(principal, row.project));
    if (visible.length > 1) {
      throw new FlotillaError('INVALID_ARGUMENT', `AppSet "${name}" exists in projects ${visible.map((r) => `"${r.project}"`).join(', ')}: name the project.`);
    }
    return visible[0] ?? null;
  }

  /** Like {@link findVisible}, but NOT_FOUND instead of null, with the message of a missing AppSet. */
  async getVisible(principal: Principal, name: string, project?: string | null): Promise<AppSetEntity> {
    const found = await this.findVisible(principal, name, project);
    if (!found) throw new FlotillaError('NOT_FOUND', `AppSet "${name}" does not exist.`);
    return found;
  }

  async byId(id: string): Promise<AppSetEntity> {
    return this.db.getRepository(AppSetEntity).findOneOrFail({ where: { id } });
  }


  async revisions(appSetId: string, first: number, offset: number): Promise<AppSetRevisionEntity[]> {
    return this.db.getRepository(AppSetRevisionEntity).find({ where: { appSetId }, order: { number: 'DESC' }, take: first, skip: offset });
  }

  async revision(appSetId: string, number: number): Promise<AppSetRevisionEntity | null> {
    return this.db.getRepository(AppSetRevisionEntity).findOne({ where: { appSetId, number } });
  }

}

/** An expansion made before a transaction, with the inputs it read (canonical JSON). */
interface ExpandedAhead {
  readonly inputs: string;
  readonly expanded: ResolvedExpansion;
}

/** Rolls an apply's transaction back, carrying what each document's outcome was. */
class DocumentsRefused extends Error {
  constructor(
    readonly outcomes: readonly ApplyAppSetOutcome[],
    readonly refusedStaging: ReadonlySet<number>,
  ) {
    super('documents refused');
  }
}

/** Applies, refreshes and rollout starts of one AppSet are serialised on this advisory lock key. */
export function lockKey(project: string, name: string): string {
  return `app-set:${project}/${name}`;
}
