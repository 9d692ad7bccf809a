import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import type { AppSizeConfig } from '../config/app-size-config';
import type { RenderConfig } from '../config/render-config';
import { DEFAULT_EXPANSION_LIMITS } from '../core/expand-app-set';
import { issue, type Issue } from '../core/issues';
import { FlotillaError } from '../errors';
import { ProgressBoard, type Progress } from './progress-board';
import type { AppsMessage, PackedApp, PackedExpansion, PreviewInput, PreviewOutcome, RenderInput, RenderTask, WorkerMessage } from './render-task';

/** Queued renders per worker beyond the running ones; more are refused as UNAVAILABLE (each holds its inputs). */
const QUEUE_PER_WORKER = 4;
/**
 * How much lower than the event loop's the render threads' CPU priority is, in nice levels: at 5 the
 * kernel gives a busy render thread about a third of the share of the event loop when both want the
 * same core. Not more: a render's limit is wall-clock time, and a render starved by its neighbours on a
 * busy machine would run into it.
 */
const RENDER_NICENESS = 5;
/** How long the `done` message may trail the worker's return (both are already posted by then). */
const DONE_GRACE_MS = 5_000;

/** The compiled worker next to this file, or, when the hub runs from TypeScript sources (vitest), a bootstrap that compiles it. */
export function renderWorkerFile(): string {
  const compiled = join(__dirname, 'render-worker.js');
  return existsSync(compiled) ? compiled : join(__dirname, 'render-worker.dev.cjs');
}

/**
 * The render pool: worker threads that expand AppSets and compute previews off the event loop, so a
 * hostile template cannot stall agents, GraphQL or /healthz. Each render has a wall-clock limit from the
 * moment a worker starts it and a heap limit per worker; a render over either is stopped by terminating
 * its worker (a fresh one replaces it) and comes back as one issue naming what was being rendered:
 * `RENDER_TIMEOUT` or `RENDER_MEMORY_LIMIT`. A stopped render hands back nothing, so nothing of it can be
 * staged or sent. Workers start with the pool and are terminated by {@link destroy}.
 */
export class RenderPool implements OnApplicationShutdown {
  private readonly pool: Piscina;
  private destroyed = false;
  /** Renders running or waiting. Counted here: piscina does not bound the queue of abortable tasks. */
  private inFlight = 0;

  constructor(
    private readonly config: RenderConfig & Partial<AppSizeConfig>,
    filename: string = renderWorkerFile(),
  ) {
    this.pool = new Piscina({
      filename,
      minThreads: config.workers,
      maxThreads: config.workers,
      // Warm workers: a render never waits for a thread to start unless a stopped one is being replaced.
      idleTimeout: Infinity,
      resourceLimits: { maxOldGenerationSizeMb: config.memoryMb },
      // Lower CPU priority for render threads (Linux renices each thread): when cores are short, the
      // event loop (agent streams, heartbeats, /healthz) runs first and a render waits.
      niceIncrement: RENDER_NICENESS,
    });
    // A worker that dies between tasks (it cannot run out of memory then; this is for the unforeseen)
    // is replaced by piscina; the event only needs a listener so that it does not crash the hub.
    this.pool.on('error', () => undefined);
  }

  /** Expands an AppSet (see core/expand-app-set), checks the project's allow-list and the output cap. */
  async expand(input: RenderInput): Promise<PackedExpansion> {
    const apps: PackedApp[] = [];
    const bundles = new Map<string, string>();
    const done = await this.run({ kind: 'expand', ...input }, (message) => {
      for (const [revision, json] of message.bundles) bundles.set(revision, json);
      // Every App's revision came in this chunk or an earlier one; Apps of one revision share the string.
      for (const app of message.apps) apps.push({ ...app, manifestsJson: bundles.get(app.revision)! });
    });
    if ('stopped' in done) return { apps: [], issues: [done.stopped], needs: [] };
    return { apps: done.issues.length > 0 || done.needs.length > 0 ? [] : apps, issues: done.issues, needs: done.needs };
  }

  /** Expands an AppSet and diffs it against what is staged (see core/preview), in one worker. */
  async preview(input: PreviewInput): Promise<PreviewOutcome> {
    const done = await this.run({ kind: 'preview', ...input }, () => undefined);
    if ('stopped' in done) return { preview: null, issues: [done.stopped], needs: [], stagedCount: input.staged.length };
    return { preview: done.preview ?? null, issues: done.issues, needs: done.needs, stagedCount: done.stagedCount ?? input.staged.length };
  }

  /** Worker threads alive now. */
  get threadCount(): number {
    return this.pool.threads.length;
  }

  /** Terminates every worker; renders still queued or running fail as UNAVAILABLE. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.pool.destroy();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.destroy();
  }

  private async run(
    task: { readonly kind: 'expand' } & RenderInput | { readonly kind: 'preview' } & PreviewInput,
    onApps: (message: AppsMessage) => void,
  ): Promise<Extract<WorkerMessage, { kind: 'done' }> | { stopped: Issue }> {
    if (this.destroyed) throw shuttingDown();
    const capacity = this.config.workers * (1 + QUEUE_PER_WORKER);
    if (this.inFlight >= capacity) {
      throw new FlotillaError('UNAVAILABLE', `Every render worker is busy and ${capacity - this.config.workers} renders are waiting; try again shortly.`, this.config.timeoutMs);
    }
    this.inFlight++;
    const { port1, port2 } = new MessageChannel();
    const board = new ProgressBoard();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let finish!: (message: Extract<WorkerMessage, { kind: 'done' }>) => void;
    const finished = new Promise<Extract<WorkerMessage, { kind: 'done' }>>((resolve) => (finish = resolve));
    port1.on('message', (message: WorkerMessage) => {
      if (message.kind === 'started') {
        timer = setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, this.config.timeoutMs);
      } else if (message.kind === 'apps') onApps(message);
      else finish(message);
    });
    const limits = { maxOutputBytes: this.config.maxOutputBytes, maxOutputSetting: 'FLOTILLA_RENDER_MAX_OUTPUT_MB', maxAppBytes: this.config.maxAppBytes ?? DEFAULT_EXPANSION_LIMITS.maxAppBytes };
    const posted: RenderTask = { ...task, limits, port: port2, progress: board.buffer };
    try {
      await this.pool.run(posted, { signal: abort.signal, transferList: [port2] });
      clearTimeout(timer);
      return await withDeadline(finished, DONE_GRACE_MS);
    } catch (error) {
      if (timedOut) return { stopped: this.stoppedIssue(task.document.metadata.name, board.read(), 'time') };
      if (isOutOfMemory(error)) return { stopped: this.stoppedIssue(task.document.metadata.name, board.read(), 'memory') };
      if (this.destroyed) throw shuttingDown();
      return { stopped: this.failedIssue(task.document.metadata.name, board.read(), error) };
    } finally {
      this.inFlight--;
      clearTimeout(timer);
      port1.close();
    }
  }

  /** The issue of a render stopped at a limit, naming the AppSet, the App and the template string as far as the board knows them. */
  private stoppedIssue(appSet: string, progress: Progress, limit: 'time' | 'memory'): Issue {
    const what =
      limit === 'time'
        ? `took longer than ${this.config.timeoutMs} ms (FLOTILLA_RENDER_TIMEOUT_MS)`
        : `needed more than ${this.config.memoryMb} MiB of memory (FLOTILLA_RENDER_MEMORY_MB)`;
    return issue(limit === 'time' ? 'RENDER_TIMEOUT' : 'RENDER_MEMORY_LIMIT', pathOf(progress), `Rendering AppSet "${appSet}" ${what} and was stopped ${whereOf(progress)}; nothing was staged or sent.`);
  }

  private failedIssue(appSet: string, progress: Progress, error: unknown): Issue {
    // Only the error's kind: its message could quote template input.
    const kind = error instanceof Error ? error.name : 'unknown error';
    return issue('RENDER_FAILED', pathOf(progress), `Rendering AppSet "${appSet}" failed in its worker (${kind}) ${whereOf(progress)}; nothing was staged or sent.`);
  }
}

/** Where in the AppSet the render was: the template string, else the part being worked on. */
function pathOf(progress: Progress): string {
  if (progress.leaf !== '') return progress.leaf;
  if (progress.phase === 'generators') return 'spec.generators';
  if (progress.phase === 'apps') return 'spec.template';
  return 'spec';
}

function whereOf(progress: Progress): string {
  const at = progress.leaf !== '' ? ` at ${progress.leaf}` : '';
  switch (progress.phase) {
    case 'queued':
      return 'before it started';
    case 'generators':
      return `while evaluating the generators${at}`;
    case 'apps':
      return `while rendering App ${progress.appIndex} of ${progress.appTotal} (cluster ${progress.cluster || '?'}, from ${progress.source || '?'})${at}`;
    case 'checks':
      return 'while checking the rendered Apps';
    case 'diffs':
      return 'while computing the preview diffs';
    case 'sending':
      return 'while handing the result back';
  }
}

function isOutOfMemory(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY';
}

function shuttingDown(): FlotillaError {
  return new FlotillaError('UNAVAILABLE', 'The hub is shutting down; try again on another replica or after it restarts.', 1000);
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the render worker returned but its result did not arrive within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
