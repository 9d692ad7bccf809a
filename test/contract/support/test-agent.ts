import { Health, SyncStatus } from '@flotilla/proto';
import {
  decideDesiredApp,
  decideRemoveApp,
  inventoryOf,
  type AckContent,
  type DesiredEntry,
  type HeldAppRef,
  type IncomingDesiredApp,
  type IncomingRemoveApp,
} from '../../../agent/src/core/desired-state.js';
import type { HubLinkHandler } from '../../../agent/src/hub-link/hub-link.js';

/** The report content a hub link carries (the agent's own type, taken from the port). */
export type ReportContent = Parameters<Parameters<HubLinkHandler['onReport']>[0]>[0];

/** One message the hub delivered, in arrival order. */
export type Delivery = { readonly kind: 'desiredApp'; readonly message: IncomingDesiredApp } | { readonly kind: 'removeApp'; readonly message: IncomingRemoveApp };

/**
 * The agent side of the contract suite: a {@link HubLinkHandler} that decides with the agent's real
 * decision functions and holds Apps in memory instead of applying them. Tests read what arrived and
 * push acks and reports of their choosing (duplicates, stale ones) through the real hub link.
 */
export class TestAgent implements HubLinkHandler {
  readonly held = new Map<string, DesiredEntry>();
  readonly deliveries: Delivery[] = [];
  readonly acks: AckContent[] = [];
  /** When set, Hello and Inventory list nothing (the hub then resends every App the agent holds). */
  hideInventory = false;
  readonly #listeners = new Set<(report: ReportContent) => void>();
  readonly #reports = new Map<string, ReportContent>();
  #sendAck: ((ack: AckContent) => void) | undefined;

  inventory(): readonly HeldAppRef[] {
    return this.hideInventory ? [] : inventoryOf(this.held.values());
  }

  async handleDesiredApp(message: IncomingDesiredApp, sendAck: (ack: AckContent) => void): Promise<void> {
    this.deliveries.push({ kind: 'desiredApp', message });
    this.#sendAck = sendAck;
    const decision = decideDesiredApp(this.held.get(message.appName), message);
    if (decision.kind === 'ignore') return;
    if (decision.kind === 'accept') this.held.set(message.appName, decision.entry);
    this.#ack(decision.ack);
  }

  async handleRemoveApp(message: IncomingRemoveApp, sendAck: (ack: AckContent) => void): Promise<void> {
    this.deliveries.push({ kind: 'removeApp', message });
    this.#sendAck = sendAck;
    const decision = decideRemoveApp(this.held.get(message.appName), message, Date.now());
    if (decision.kind === 'ignore') return;
    if (decision.kind === 'remove') this.held.set(message.appName, decision.entry);
    this.#ack(decision.ack);
  }

  currentReports(): readonly ReportContent[] {
    return [...this.#reports.values()];
  }

  onReport(listener: (report: ReportContent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends an ack through the current link, as the agent would (tests use it for stale or repeated acks). */
  sendAck(ack: AckContent): void {
    if (!this.#sendAck) throw new Error('no delivery yet: the link has given no way to ack');
    this.#ack(ack);
  }

  /** Records and publishes a report, as the reconciler does when the driver judges an App. */
  report(appName: string, health: Health, options: { revision?: string; generation?: bigint } = {}): ReportContent {
    const entry = this.held.get(appName);
    const revision = options.revision ?? (entry?.kind === 'app' ? entry.revision : '');
    const generation = options.generation ?? entry?.generation ?? 0n;
    const report: ReportContent = {
      appName,
      revision,
      generation,
      health,
      syncStatus: health === Health.HEALTHY ? SyncStatus.SYNCED : SyncStatus.APPLYING,
      message: `judged ${Health[health]}`,
      resources: [],
      resourcesTruncated: false,
      observedAtUnixMs: BigInt(Date.now()),
    };
    this.#reports.set(appName, report);
    for (const listener of this.#listeners) listener(report);
    return report;
  }

  /** Sends a report without making it the current one (a stale or duplicated message). */
  resend(report: ReportContent): void {
    for (const listener of this.#listeners) listener(report);
  }

  /** The DesiredApps received for `appName`, oldest first. */
  desiredApps(appName: string): IncomingDesiredApp[] {
    return this.deliveries.flatMap((d) => (d.kind === 'desiredApp' && d.message.appName === appName ? [d.message] : []));
  }

  removals(appName: string): IncomingRemoveApp[] {
    return this.deliveries.flatMap((d) => (d.kind === 'removeApp' && d.message.appName === appName ? [d.message] : []));
  }

  #ack(ack: AckContent): void {
    this.acks.push(ack);
    this.#sendAck?.(ack);
  }
}
