import { Health, LIMITS, SyncStatus } from '@flotilla/proto';
import { aggregateHealth, compareResources, judgeResource, type RelatedObjects, type ReportInput, type ResourceHealth } from '../health/index.js';
import type { DriftedValue } from './drift-values.js';
import type { KubeObject, ObjectRef } from './object-ref.js';

/**
 * The status of an App on a real cluster, from what the driver knows of each object it declares.
 * Always for the revision and generation the driver applied.
 */

/** Where an object of the App stands. */
export type ObjectState =
  /** Applied (or left alone by create-only because it existed); its health is judged from `live`. */
  | { readonly kind: 'applied' }
  /** Not applied yet in this revision (the apply is running or stopped before it). */
  | { readonly kind: 'pending' }
  /** The apply of this object failed. */
  | { readonly kind: 'failed'; readonly message: string };

/** What the driver knows of one object the revision declares. */
export interface ObjectObservation {
  readonly ref: ObjectRef;
  readonly state: ObjectState;
  /** The live object as last seen; undefined when it does not exist. */
  readonly live: KubeObject | undefined;
  /** Drifted field paths (empty when not drifted); undefined when drift is not known. */
  readonly driftedFields?: readonly string[];
  /** What the drifted fields hold on each side (see drift-values.ts); absent when not known. */
  readonly driftedValues?: readonly DriftedValue[];
  /** Extra words about drift (a fight, a heal in progress). */
  readonly driftNote?: string;
}

/** The App-level phase. */
export type AppPhase =
  /** An apply is running; `step` says what it waits for (e.g. its post hooks). */
  | { readonly kind: 'applying'; readonly step?: string }
  /** The last apply of this revision completed. */
  | { readonly kind: 'applied' }
  /** The last apply failed or was refused; `message` says why. */
  | { readonly kind: 'failed'; readonly message: string };

/** Inputs of {@link buildAppStatus}. */
export interface AppStatusInput {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
  readonly phase: AppPhase;
  readonly objects: readonly ObjectObservation[];
  /** A note added to the message (e.g. objects kept by the sync mode). */
  readonly note?: string;
  readonly nowMs: number;
  /** What the rules may know besides each object (a webhook's service endpoints); absent: nothing. */
  readonly related?: RelatedObjects;
}

/**
 * The App's status. Per object: a failed apply is DEGRADED with the error, a pending object is
 * PROGRESSING, a missing object MISSING, otherwise the health rules judge the live object. App health
 * is the worst resource health, and DEGRADED when the apply failed or was refused (even with no
 * resources); while an apply runs it is at best PROGRESSING. Sync status: APPLYING while applying, FAILED after a failed apply, OUT_OF_SYNC when an
 * object is missing or drifted, SYNCED otherwise. The message names the failure, or is left empty
 * for the report to derive from the resources.
 */
export function buildAppStatus(input: AppStatusInput): ReportInput {
  const resources = input.objects.map((object) => resourceOf(object, input.nowMs, input.related)).sort(compareResources);
  const outOfSync = resources.some((resource) => resource.drifted || resource.health === Health.MISSING);
  let health = aggregateHealth(resources.map((resource) => resource.health));
  let syncStatus: SyncStatus;
  let message = '';
  switch (input.phase.kind) {
    case 'applying':
      syncStatus = SyncStatus.APPLYING;
      // Not healthy before the apply is done: a rollout must not count an App whose post hooks still run.
      if (health === Health.HEALTHY) {
        health = Health.PROGRESSING;
        message = input.phase.step ?? 'applying';
      }
      break;
    case 'failed':
      syncStatus = SyncStatus.FAILED;
      health = Health.DEGRADED;
      message = input.phase.message;
      break;
    case 'applied':
      syncStatus = outOfSync ? SyncStatus.OUT_OF_SYNC : SyncStatus.SYNCED;
      message = describeDrift(resources);
      break;
  }
  if (input.note !== undefined && input.note !== '') message = message === '' ? input.note : `${message}; ${input.note}`;
  return {
    appName: input.appName,
    revision: input.revision,
    generation: input.generation,
    health,
    syncStatus,
    message,
    resources,
    observedAtUnixMs: input.nowMs,
  };
}

function resourceOf(object: ObjectObservation, nowMs: number, related: RelatedObjects | undefined): ResourceHealth {
  const base = { apiVersion: object.ref.apiVersion, kind: object.ref.kind, namespace: object.ref.namespace, name: object.ref.name };
  const driftedFields = [...(object.driftedFields ?? [])].sort().slice(0, LIMITS.maxDriftedFields);
  const drifted = object.driftedFields !== undefined && (object.driftedFields.length > 0 || object.driftNote !== undefined);
  const withDrift = (health: Health, message: string): ResourceHealth => ({
    ...base,
    health,
    message: object.driftNote !== undefined && object.driftNote !== '' ? joinText(message, object.driftNote) : message,
    drifted,
    ...(drifted ? { driftedFields, driftedValues: (object.driftedValues ?? []).filter((value) => driftedFields.includes(value.path)) } : {}),
  });
  switch (object.state.kind) {
    case 'failed':
      return { ...base, health: Health.DEGRADED, message: object.state.message, drifted: false };
    case 'pending':
      return { ...base, health: Health.PROGRESSING, message: 'not applied yet', drifted: false };
    case 'applied': {
      if (object.live === undefined) return withDrift(Health.MISSING, 'not found in the cluster');
      const judgement = judgeResource(object.live, nowMs, related);
      return withDrift(judgement.health, judgement.message);
    }
  }
}

/**
 * A one-line summary of drifted resources, e.g. `1 drifted: Deployment shop/web (spec.replicas)`
 * (at most three objects and three paths each named); '' when nothing drifted.
 */
export function describeDrift(resources: readonly ResourceHealth[]): string {
  const drifted = resources.filter((resource) => resource.drifted);
  if (drifted.length === 0) return '';
  const shown = drifted.slice(0, 3).map((resource) => {
    const where = resource.namespace === '' ? resource.name : `${resource.namespace}/${resource.name}`;
    const fields = resource.driftedFields !== undefined && resource.driftedFields.length > 0 ? ` (${resource.driftedFields.slice(0, 3).join(', ')})` : '';
    return `${resource.kind} ${where}${fields}`;
  });
  const more = drifted.length > 3 ? ` and ${drifted.length - 3} more` : '';
  return `${drifted.length} drifted: ${shown.join(', ')}${more}`;
}

function joinText(a: string, b: string): string {
  return a === '' ? b : `${a}; ${b}`;
}
