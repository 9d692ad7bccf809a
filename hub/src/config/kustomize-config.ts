import { boundedIntegerReader } from './env-reading';

/** How the hub runs kustomize for `spec.template.kustomize` (see kustomize/). */
export interface KustomizeConfig {
  /**
   * FLOTILLA_KUSTOMIZE_BINARY: the program that renders: `kubectl` (runs `kubectl kustomize DIR`) or a
   * standalone `kustomize` (runs `kustomize build DIR`), told apart by the file name. A bare name is
   * looked up on PATH. Default `kubectl`.
   */
  readonly binary: string;
  /** FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS: one render is killed (with everything it started) after this long. */
  readonly timeoutMs: number;
  /** FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB, in bytes: one render printing more is killed and refused. */
  readonly maxOutputBytes: number;
  /**
   * FLOTILLA_KUSTOMIZE_MAX_INPUT_MB, in bytes: most bytes of repository files written out for one
   * render (the whole repository at the commit is materialised, so that bases in sibling folders work).
   */
  readonly maxInputBytes: number;
}

export const DEFAULT_KUSTOMIZE_BINARY = 'kubectl';
export const DEFAULT_KUSTOMIZE_TIMEOUT_SECONDS = 30;
export const DEFAULT_KUSTOMIZE_MAX_OUTPUT_MB = 32;
export const DEFAULT_KUSTOMIZE_MAX_INPUT_MB = 32;

/** Reads the FLOTILLA_KUSTOMIZE_* variables; a bad value is a problem and the default is used. */
export function loadKustomizeConfig(env: Record<string, string | undefined>, problems: string[]): KustomizeConfig {
  const int = boundedIntegerReader(env, problems);
  let binary = env['FLOTILLA_KUSTOMIZE_BINARY']?.trim() || DEFAULT_KUSTOMIZE_BINARY;
  if (/[\0\n]/.test(binary)) {
    problems.push('FLOTILLA_KUSTOMIZE_BINARY must be a file name or path');
    binary = DEFAULT_KUSTOMIZE_BINARY;
  }
  return {
    binary,
    timeoutMs: int('FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS', DEFAULT_KUSTOMIZE_TIMEOUT_SECONDS, 1, 600) * 1000,
    maxOutputBytes: int('FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB', DEFAULT_KUSTOMIZE_MAX_OUTPUT_MB, 1, 1024) * 1024 * 1024,
    maxInputBytes: int('FLOTILLA_KUSTOMIZE_MAX_INPUT_MB', DEFAULT_KUSTOMIZE_MAX_INPUT_MB, 1, 1024) * 1024 * 1024,
  };
}
