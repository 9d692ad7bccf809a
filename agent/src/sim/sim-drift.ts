import type { Manifest } from '../core/desired-state.js';
import { describeDriftValues, type DriftedValue } from '../core/kube/drift-values.js';
import { driftedFields, jsonEqual } from '../core/kube/field-diff.js';
import { withValueAt } from '../core/kube/field-values.js';
import { driftRulesFor, type SimDriftRule } from '../core/sim-drift.js';

/**
 * The simulated cluster's out-of-band edits (FLOTILLA_SIM_DRIFT, see core/sim-drift.ts) and how it
 * judges drift: with the Kubernetes driver's own comparison (core/kube/field-diff.ts) and values
 * (core/kube/drift-values.ts), the applied object standing for the server's answer to the apply.
 */

/** What the drift functions need of a simulated object. */
export interface SimObjectShape {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** The object as applied (secret references resolved) or, for a live copy, as it is now. */
  readonly manifest: Manifest;
  /** The manifest before secret references were resolved; absent when it held none. */
  readonly declared?: Manifest;
}

/** The drift of one object: its drifted field paths (sorted) and their values. */
export interface SimObjectDrift {
  readonly fields: readonly string[];
  readonly values: readonly DriftedValue[];
}

/** The key of a simulated object in an App's object map. */
export function simObjectKey(object: { readonly apiVersion: string; readonly kind: string; readonly namespace: string; readonly name: string }): string {
  return `${object.kind}/${object.namespace}/${object.name}/${object.apiVersion}`;
}

/**
 * The live objects after the edits `rules` make to the App's `applied` objects (each rule matching
 * the App and an object's kind and name sets its path to its value in that object's live copy), or
 * undefined when no rule changes anything. Inputs are never changed.
 */
export function editLiveObjects<T extends SimObjectShape>(appName: string, applied: readonly T[], live: ReadonlyMap<string, T>, rules: readonly SimDriftRule[]): Map<string, T> | undefined {
  let edited: Map<string, T> | undefined;
  for (const object of applied) {
    const key = simObjectKey(object);
    const current = live.get(key) ?? object;
    let manifest: unknown = current.manifest;
    for (const rule of driftRulesFor(rules, appName, object.kind, object.name)) manifest = withValueAt(manifest, rule.segments, rule.value);
    if (jsonEqual(manifest, current.manifest)) continue;
    edited ??= new Map(live);
    edited.set(key, { ...current, manifest: manifest as Manifest });
  }
  return edited;
}

/**
 * The drift of an applied object against its live copy, as the Kubernetes driver reports it;
 * undefined when nothing the App sets differs (or the object is gone: the simulation never deletes
 * by itself). `secretValues` are the values the App's secret references resolved to.
 */
export function driftOfObject(applied: SimObjectShape, live: SimObjectShape | undefined, secretValues: readonly string[]): SimObjectDrift | undefined {
  if (live === undefined) return undefined;
  const fields = driftedFields(applied.manifest, applied.manifest, live.manifest);
  if (fields.length === 0) return undefined;
  return {
    fields: fields.map((field) => field.path),
    values: describeDriftValues({ ref: applied, fields, declared: applied.declared, expected: applied.manifest, live: live.manifest, secretValues }),
  };
}
