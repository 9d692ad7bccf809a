import { availableParallelism } from 'node:os';
import { boundedIntegerReader } from './env-reading';

/** Limits of the render pool: the worker threads that expand AppSets and compute previews (see render-pool/). */
export interface RenderConfig {
  /**
   * FLOTILLA_RENDER_TIMEOUT_MS: wall-clock limit of one render (one expansion, or one preview with its
   * diffs), counted from the moment a worker starts it. The worker is then terminated and the render
   * reported as RENDER_TIMEOUT.
   */
  readonly timeoutMs: number;
  /**
   * FLOTILLA_RENDER_MEMORY_MB: heap limit of each render worker (V8 old generation), in MiB. A render
   * that needs more is stopped and reported as RENDER_MEMORY_LIMIT.
   */
  readonly memoryMb: number;
  /** FLOTILLA_RENDER_WORKERS: worker threads kept running; renders beyond them wait in a bounded queue. */
  readonly workers: number;
  /**
   * FLOTILLA_RENDER_MAX_OUTPUT_MB, in bytes: most rendered manifests (canonical JSON, all Apps of one
   * AppSet together) one render may hand back to the hub; more is EXPANSION_TOO_LARGE.
   */
  readonly maxOutputBytes: number;
}

/**
 * 10 s: a 100 000-cluster expansion takes about 7 s on a small machine (S1 of the benchmarks), and a
 * hostile template is stopped long before it could starve anything (it runs off the event loop).
 */
export const DEFAULT_RENDER_TIMEOUT_MS = 10_000;
export const DEFAULT_RENDER_MEMORY_MB = 1024;
export const DEFAULT_RENDER_MAX_OUTPUT_MB = 256;
/** Most default workers: each may use FLOTILLA_RENDER_MEMORY_MB. */
const MAX_DEFAULT_WORKERS = 4;

/**
 * Reads the FLOTILLA_RENDER_* variables. The default worker count leaves one core of `parallelism` to
 * the event loop (agents, GraphQL, /healthz): parallelism − 1, at least 1, at most 4.
 */
export function loadRenderConfig(env: Record<string, string | undefined>, problems: string[], parallelism: number = availableParallelism()): RenderConfig {
  const int = boundedIntegerReader(env, problems);
  const defaultWorkers = Math.max(1, Math.min(MAX_DEFAULT_WORKERS, Math.floor(parallelism) - 1));
  return {
    timeoutMs: int('FLOTILLA_RENDER_TIMEOUT_MS', DEFAULT_RENDER_TIMEOUT_MS, 100, 10 * 60_000),
    memoryMb: int('FLOTILLA_RENDER_MEMORY_MB', DEFAULT_RENDER_MEMORY_MB, 32, 64 * 1024),
    workers: int('FLOTILLA_RENDER_WORKERS', defaultWorkers, 1, 64),
    maxOutputBytes: int('FLOTILLA_RENDER_MAX_OUTPUT_MB', DEFAULT_RENDER_MAX_OUTPUT_MB, 1, 16 * 1024) * 1024 * 1024,
  };
}
