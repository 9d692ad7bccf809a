import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { checkCapabilities, truncateText, type Capabilities } from '@flotilla/proto';
import { AppSetsService } from '../app-sets/app-sets.service';
import { ClusterEntity } from './cluster.entity';

/** Capabilities as an agent reported them in its Hello (the wire message, minus its type name). */
export interface ReportedCapabilities {
  readonly kubernetesVersion: string;
  readonly apiVersions: readonly string[];
  readonly discoveryError: string;
}

/** What recording a report did. */
export interface CapabilitiesRecord {
  /** True when the known capabilities changed (including from unknown to known). */
  readonly changed: boolean;
  /** Why the report was not taken (the agent's discovery failed, or it is over a cap); undefined when it was. */
  readonly problem?: string;
}

/** Longest stored problem, in characters (the column is varchar(512)). */
const MAX_PROBLEM_CHARS = 512;

/**
 * Each cluster's capabilities (Kubernetes version and served API resources), as its agent reports
 * them at connect; what the Helm renderer passes as `--kube-version` and `--api-versions`. A report is
 * checked against CAPABILITY_LIMITS and the grammar and refused whole when it does not hold; a refused
 * or failed report keeps what was known before (a transient discovery failure must not un-render a
 * cluster's Apps) and is shown as `Cluster.capabilitiesProblem`.
 */
@Injectable()
export class ClusterCapabilitiesService {
  constructor(private readonly db: DataSource) {}

  /** The capabilities of a cluster, or undefined while they are not known (or the cluster is not registered). */
  async capabilities(clusterName: string, tx: EntityManager = this.db.manager): Promise<Capabilities | undefined> {
    const row = await tx.findOne(ClusterEntity, { where: { name: clusterName }, select: { id: true, kubernetesVersion: true, apiVersions: true } });
    return row ? known(row) : undefined;
  }

  /** The known capabilities of every cluster, by cluster name (clusters whose capabilities are unknown are absent). */
  async all(tx: EntityManager = this.db.manager): Promise<Map<string, Capabilities>> {
    const rows = await tx.find(ClusterEntity, { select: { id: true, name: true, kubernetesVersion: true, apiVersions: true }, order: { name: 'ASC' } });
    const out = new Map<string, Capabilities>();
    for (const row of rows) {
      const capabilities = known(row);
      if (capabilities) out.set(row.name, capabilities);
    }
    return out;
  }

  /**
   * Records what an agent reported. `undefined` (an agent that does not report capabilities) changes
   * nothing. Returns whether the known capabilities changed.
   */
  async record(clusterId: string, reported: ReportedCapabilities | undefined, now: Date): Promise<CapabilitiesRecord> {
    if (!reported) return { changed: false };
    const check = reported.discoveryError
      ? { ok: false as const, problem: `The agent's discovery failed: ${printable(reported.discoveryError.slice(0, MAX_PROBLEM_CHARS))}` }
      : checkCapabilities(reported.kubernetesVersion, reported.apiVersions);
    return this.db.transaction(async (tx) => {
      const row = await tx.findOne(ClusterEntity, { where: { id: clusterId }, lock: { mode: 'pessimistic_write' } });
      if (!row) return { changed: false };
      if (!check.ok) {
        const problem = truncateText(check.problem, MAX_PROBLEM_CHARS);
        await tx.update(ClusterEntity, { id: clusterId }, { capabilitiesProblem: problem, capabilitiesReportedAt: now });
        return { changed: false, problem };
      }
      const before = known(row);
      const { kubernetesVersion, apiVersions } = check.capabilities;
      const changed = !before || before.kubernetesVersion !== kubernetesVersion || !sameList(before.apiVersions, apiVersions);
      await tx.update(
        ClusterEntity,
        { id: clusterId },
        { ...(changed ? { kubernetesVersion, apiVersions: [...apiVersions] } : {}), capabilitiesProblem: null, capabilitiesReportedAt: now },
      );
      return { changed };
    });
  }
}

/** Re-stages every AppSet after a capabilities change, at most one run at a time; requests meanwhile coalesce into one more run. */
export interface RestageAll {
  restageAll(): Promise<void>;
}

/** Most back-to-back runs of one {@link CapabilityRestaging} drain; a request after that starts a new drain. */
const MAX_RUNS_PER_DRAIN = 100;

/**
 * Re-stages the AppSets when a cluster's capabilities changed (the agent upgraded the cluster, or they
 * became known), as a change of a cluster's labels does: Apps whose rendering depends on them are
 * rendered again, and an App waiting for them is staged. Runs in the background (an agent's connect
 * never waits for it) and coalesces: a fleet of agents connecting at once costs a few runs, not one
 * each.
 */
export class CapabilityRestaging {
  private readonly log = new Logger('Clusters');
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly appSets: RestageAll) {}

  /** Asks for a re-staging; returns at once. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once no re-staging is running (for shutdown and tests). */
  async idle(): Promise<void> {
    for (let i = 0; i < MAX_RUNS_PER_DRAIN && this.running; i++) await this.running;
  }

  private async drain(): Promise<void> {
    for (let run = 0; run < MAX_RUNS_PER_DRAIN; run++) {
      this.again = false;
      await this.appSets.restageAll().catch((error: unknown) => this.log.warn(`re-staging after a capabilities change failed: ${error instanceof Error ? error.message : String(error)}`));
      if (!this.again) return;
    }
  }
}

/** The Nest provider of {@link CapabilityRestaging}: waits for a running re-staging at shutdown. */
@Injectable()
export class CapabilityRestagingService extends CapabilityRestaging implements OnApplicationShutdown {
  constructor(appSets: AppSetsService) {
    super(appSets);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.idle();
  }
}

/** The text with control characters replaced (it is the agent's: it reaches the hub's log and GraphQL). */
function printable(text: string): string {
  return Array.from(text, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? '?' : c;
  }).join('');
}

function known(row: Pick<ClusterEntity, 'kubernetesVersion' | 'apiVersions'>): Capabilities | undefined {
  if (row.kubernetesVersion === null || row.apiVersions === null) return undefined;
  return { kubernetesVersion: row.kubernetesVersion, apiVersions: row.apiVersions };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry === b[i]);
}
