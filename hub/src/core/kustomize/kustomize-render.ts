import { canonicalJson } from '@flotilla/proto';
import type { KustomizeImageSpec, KustomizePatchSpec } from '../app-set/app-set-spec';

/**
 * One kustomize render as the hub runs it: a directory of one repository at one commit, with the
 * overlay fields of `spec.template.kustomize` already rendered over one App's parameters. Plain data;
 * equal requests render to equal output (the commit pins the input), so it is also the cache key.
 */
export interface KustomizeRequest {
  readonly repoURL: string;
  readonly revision: string;
  readonly commit: string;
  /** Normalised, relative to the repository root ('.' for the root). */
  readonly path: string;
  readonly namespace?: string;
  readonly namePrefix?: string;
  readonly nameSuffix?: string;
  readonly commonLabels?: Readonly<Record<string, string>>;
  readonly images?: readonly KustomizeImageSpec[];
  readonly patches?: readonly KustomizePatchSpec[];
}

/**
 * What a kustomize render produced: its objects, or why it failed (`message` is free of credentials
 * and of the hub's local paths; `code` is the issue code).
 */
export type KustomizeOutput = { readonly manifests: readonly Readonly<Record<string, unknown>>[] } | { readonly code: string; readonly message: string };

/** A render the expansion needed and the snapshot did not hold: the service runs kustomize and expands again. */
export interface KustomizeNeed {
  readonly kind: 'kustomize';
  /** {@link kustomizeKey} of `request`. */
  readonly key: string;
  readonly request: KustomizeRequest;
}

/** The key of a request's output in the snapshot: the canonical JSON of the request. */
export function kustomizeKey(request: KustomizeRequest): string {
  return canonicalJson(request);
}

export function isKustomizeFailure(output: KustomizeOutput): output is { readonly code: string; readonly message: string } {
  return 'code' in output;
}

/**
 * The kustomize side of one expansion: looks outputs up in the snapshot and records what is missing as
 * needs (instead of failing). One instance per expansion; it accumulates.
 */
export class KustomizeOutputs {
  private readonly missing = new Map<string, KustomizeNeed>();

  constructor(private readonly outputs: ReadonlyMap<string, KustomizeOutput> = new Map()) {}

  /** What the snapshot lacked, in the order first asked for. */
  get needs(): KustomizeNeed[] {
    return [...this.missing.values()];
  }

  /** The output of `request`, or `pending` (a need is recorded). */
  output(request: KustomizeRequest): KustomizeOutput | 'pending' {
    const key = kustomizeKey(request);
    const found = this.outputs.get(key);
    if (found) return found;
    this.missing.set(key, { kind: 'kustomize', key, request });
    return 'pending';
  }
}
