import { LIMITS } from '@flotilla/proto';
import type { DesiredStateCache } from '../cache/desired-state-cache.js';
import type { Clock } from '../clock.js';
import {
  decideDesiredApp,
  decideRemoveApp,
  inventoryOf,
  verifyManifests,
  type AckContent,
  type AcceptedApp,
  type DesiredAppDecision,
  type HeldAppRef,
  type IncomingDesiredApp,
  type IncomingRemoveApp,
  type Manifest,
} from '../core/desired-state.js';
import { buildReportContent, type ReportContent } from '../core/health/index.js';
import type { AppSpec, AppStatus, ClusterDriver } from '../driver/cluster-driver.js';
import type { HubLinkHandler } from '../hub-link/hub-link.js';
import type { Logger } from '../log.js';
import { ApplyWorker } from './apply-worker.js';

/** Settings of {@link Reconciler}. */
export interface ReconcilerOptions {
  readonly cache: DesiredStateCache;
  readonly driver: ClusterDriver;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  /** Most driver operations at once (default 4). */
  readonly concurrency?: number;
  /** Most Apps held (default LIMITS.maxInventoryApps, so that an Inventory always fits). */
  readonly maxApps?: number;
}

/**
 * Keeps the cluster converged on the desired state: decides about what the hub sends (core), makes it
 * durable in the cache, acks it, applies it through the driver, and turns the driver's status changes
 * into reports. Transport-neutral: any {@link HubLink} drives it through {@link HubLinkHandler}.
 */
export class Reconciler implements HubLinkHandler {
  readonly #options: ReconcilerOptions;
  readonly #worker: ApplyWorker;
  readonly #maxApps: number;
  readonly #listeners = new Set<(report: ReportContent) => void>();
  // Fingerprint of the last report per App, so that a status event that changes nothing sends nothing.
  readonly #lastReported = new Map<string, string>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#maxApps = options.maxApps ?? LIMITS.maxInventoryApps;
    this.#worker = new ApplyWorker({
      driver: options.driver,
      clock: options.clock,
      random01: options.random01,
      log: options.log,
      concurrency: options.concurrency ?? 4,
      // Room for every App plus every tombstone, so that held work is never refused.
      maxKeys: this.#maxApps * 2,
      retry: { baseMs: 1000, maxMs: 60_000 },
    });
  }

  /**
   * Starts following the driver and re-applies everything the cache holds, so that the cluster keeps
   * converging after a restart even while the hub is unreachable. Removals are repeated too: the agent
   * may have stopped between accepting a removal and carrying it out. A cached App whose manifests no
   * longer verify is dropped (and left out of the inventory, so the hub resends it).
   */
  start(): void {
    if (this.#unsubscribe !== undefined) return;
    this.#unsubscribe = this.#options.driver.onStatusChange((status) => this.#onStatus(status));
    let dropped = 0;
    for (const entry of this.#options.cache.entries()) {
      if (entry.kind === 'tombstone') {
        this.#worker.enqueue({ kind: 'remove', appName: entry.appName, generation: entry.generation, preserveResources: entry.preserveResources });
        continue;
      }
      const verified = verifyManifests(entry.manifestsJson, entry.revision);
      if (!verified.ok) {
        this.#options.log.error('dropping cached App that no longer verifies', { app: entry.appName, error: verified.error });
        this.#options.cache.delete(entry.appName);
        dropped += 1;
        continue;
      }
      this.#worker.enqueue({ kind: 'apply', spec: specOf(entry, verified.manifests) });
    }
    if (dropped > 0) void this.#persist();
  }

  /** Stops following the driver and waits for running driver operations to end. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#listeners.clear();
    await this.#worker.stop();
  }

  inventory(): readonly HeldAppRef[] {
    return inventoryOf(this.#options.cache.entries());
  }

  async handleDesiredApp(message: IncomingDesiredApp, sendAck: (ack: AckContent) => void): Promise<void> {
    const { cache, log } = this.#options;
    const decision = this.#withCapacity(decideDesiredApp(cache.get(message.appName), message));
    const fields = { app: message.appName, generation: message.generation, revision: message.revision.slice(0, 12) };
    switch (decision.kind) {
      case 'ignore':
        log.debug('ignoring stale DesiredApp', { ...fields, reason: decision.reason });
        return;
      case 'reject':
        log.warn('refusing DesiredApp', { ...fields, error: decision.ack.error });
        sendAck(decision.ack);
        return;
      case 'duplicate':
        log.debug('DesiredApp already held; acking again', fields);
        sendAck(decision.ack);
        return;
      case 'accept':
        cache.set(decision.entry);
        await this.#persist();
        log.info('accepted DesiredApp', fields);
        sendAck(decision.ack);
        this.#worker.enqueue({ kind: 'apply', spec: specOf(decision.entry, decision.manifests) });
        return;
    }
  }

  async handleRemoveApp(message: IncomingRemoveApp, sendAck: (ack: AckContent) => void): Promise<void> {
    const { cache, clock, log } = this.#options;
    const decision = decideRemoveApp(cache.get(message.appName), message, clock.now());
    const fields = { app: message.appName, generation: message.generation };
    switch (decision.kind) {
      case 'ignore':
        log.debug('ignoring stale RemoveApp', { ...fields, reason: decision.reason });
        return;
      case 'reject':
        log.warn('refusing RemoveApp', { ...fields, error: decision.ack.error });
        sendAck(decision.ack);
        return;
      case 'duplicate':
        sendAck(decision.ack);
        return;
      case 'remove':
        cache.set(decision.entry);
        this.#lastReported.delete(message.appName);
        await this.#persist();
        log.info('accepted RemoveApp', { ...fields, preserveResources: message.preserveResources });
        sendAck(decision.ack);
        this.#worker.enqueue({ kind: 'remove', appName: message.appName, generation: message.generation, preserveResources: message.preserveResources });
        return;
    }
  }

  currentReports(): readonly ReportContent[] {
    const reports: ReportContent[] = [];
    for (const app of this.#options.cache.acceptedApps()) {
      const status = this.#options.driver.status(app.appName);
      if (status !== undefined) reports.push(buildReportContent(status));
    }
    return reports;
  }

  onReport(listener: (report: ReportContent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** True when no driver work is queued, running or waiting for a retry (for tests and shutdown). */
  isIdle(): boolean {
    return this.#worker.isIdle();
  }

  // Turns an accept into a reject when holding the App would exceed a bound; the hub retries later
  // through anti-entropy, which is better than holding state the agent cannot list or apply.
  #withCapacity(decision: DesiredAppDecision): DesiredAppDecision {
    if (decision.kind !== 'accept') return decision;
    const name = decision.entry.appName;
    const isNewApp = this.#options.cache.get(name)?.kind !== 'app';
    let error: string | undefined;
    if (isNewApp && this.#options.cache.appCount >= this.#maxApps) error = `agent already holds the maximum of ${this.#maxApps} Apps`;
    else if (!this.#worker.hasRoomFor(name)) error = 'agent cannot queue more work right now; retry later';
    if (error === undefined) return decision;
    return { kind: 'reject', ack: { ...decision.ack, accepted: false, error } };
  }

  // A failed write is logged, not fatal: the App is still applied from memory, and after a restart
  // the inventory shows the older generation, so the hub resends what was lost.
  async #persist(): Promise<void> {
    try {
      await this.#options.cache.flush();
    } catch (error) {
      this.#options.log.error('could not write the desired-state cache', { error });
    }
  }

  #onStatus(status: AppStatus): void {
    const held = this.#options.cache.get(status.appName);
    if (held?.kind !== 'app') return;
    const report = buildReportContent(status);
    const fingerprint = fingerprintOf(report);
    if (this.#lastReported.get(status.appName) === fingerprint) return;
    this.#lastReported.set(status.appName, fingerprint);
    for (const listener of [...this.#listeners]) {
      try {
        listener(report);
      } catch (error) {
        this.#options.log.error('report listener failed', { app: status.appName, error });
      }
    }
  }
}

function specOf(app: AcceptedApp, manifests: readonly Manifest[]): AppSpec {
  return {
    appName: app.appName,
    appSet: app.appSet,
    revision: app.revision,
    generation: app.generation,
    namespace: app.namespace,
    manifests,
    syncPolicy: app.syncPolicy,
  };
}

/**
 * Everything a Report says except when it was observed: a change in any field an operator sees (a
 * resource's message, its drifted field paths) is news; the same judgement observed again is not.
 */
function fingerprintOf(report: ReportContent): string {
  const { observedAtUnixMs: _observedAt, ...content } = report;
  return JSON.stringify(content, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}
