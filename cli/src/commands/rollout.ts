import { readFileSync } from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { formatAge, formatDuration, parseDuration } from '../core/duration.js';
import { decideRolloutWatch, ExitCode } from '../core/exit-codes.js';
import { shortRevision, type View } from '../core/output-format.js';
import type { RolloutProgressView } from '../core/rollout-view.js';
import {
  AbortRolloutDocument,
  ApproveWaveDocument,
  PauseRolloutDocument,
  ResumeRolloutDocument,
  RollbackRolloutDocument,
  RolloutDocument,
  RolloutProgressDocument,
  RolloutProgressNowDocument,
  RolloutsDocument,
  StartRolloutDocument,
  type RolloutQuery,
  type RolloutRowFragment,
} from '../gen/graphql.js';
import type { HubClient } from '../client/hub-client.js';
import { printOutput } from '../render/output.js';
import { rolloutProgressDisplay } from '../render/rollout-progress.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { contextFor, outputOf, withOutput } from './shared.js';

type RolloutDetail = NonNullable<RolloutQuery['rollout']>;

function rolloutView(io: Io): View<RolloutRowFragment> {
  const now = io.now();
  return {
    columns: [
      { header: 'ID', cell: (r) => r.id },
      { header: 'APPSET', cell: (r) => r.appSet },
      { header: 'REVISION', cell: (r) => String(r.appSetRevision) },
      { header: 'PHASE', cell: (r) => r.phase },
      { header: 'WAVE', cell: (r) => r.currentWave ?? '-' },
      { header: 'HEALTHY', cell: (r) => `${r.counts.healthy}/${r.counts.total}` },
      { header: 'FAILED', cell: (r) => String(r.counts.failed) },
      { header: 'AGE', cell: (r) => formatAge(r.startedAt, now) },
      { header: 'STARTED BY', cell: (r) => r.startedBy, wide: true },
      { header: 'WHY', cell: (r) => r.startReason, wide: true, flexible: true },
      { header: 'REASON', cell: (r) => r.reason, flexible: true },
    ],
    name: (r) => `rollout/${r.id}`,
  };
}

const waveView: View<RolloutDetail['waves'][number]> = {
  columns: [
    { header: 'WAVE', cell: (w) => w.name },
    { header: 'CLUSTERS', cell: (w) => String(w.clusters.length) },
    { header: 'HEALTHY', cell: (w) => `${w.counts.healthy}/${w.counts.total}` },
    { header: 'FAILED', cell: (w) => String(w.counts.failed) },
    { header: 'SKIPPED', cell: (w) => String(w.counts.skipped) },
    { header: 'PENDING', cell: (w) => String(w.counts.pending + w.counts.progressing) },
    { header: 'APPROVAL', cell: (w) => (w.approval ? (w.approved ? 'approved' : 'required') : '-') },
    { header: 'CONCURRENCY', cell: (w) => String(w.maxConcurrency), wide: true },
    { header: 'MAX FAILURES', cell: (w) => String(w.maxFailures), wide: true },
    { header: 'SOAK', cell: (w) => formatDuration(w.soakMs), wide: true },
    { header: 'CLUSTER NAMES', cell: (w) => w.clusters.join(','), wide: true, flexible: true },
  ],
  name: (w) => `wave/${w.name}`,
};

const targetView: View<RolloutDetail['targets'][number]> = {
  columns: [
    { header: 'WAVE', cell: (t) => t.wave },
    { header: 'CLUSTER', cell: (t) => t.cluster },
    { header: 'APP', cell: (t) => t.app },
    { header: 'REVISION', cell: (t) => shortRevision(t.revision) },
    { header: 'STATE', cell: (t) => t.state },
    { header: 'REASON', cell: (t) => t.reason ?? '', flexible: true },
  ],
  name: (t) => `target/${t.cluster}/${t.app}`,
};

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0) throw new CliError(`--timeout ${text}: expected a duration such as 30s, 5m or 1h30m`);
  return ms;
}

function readStrategy(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const e = error as { linePos?: { line: number; col: number }[]; code?: string; message: string };
    const where = e.linePos?.[0] ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file;
    throw new CliError(`${where}: ${e.code ? 'YAML_SYNTAX' : 'UNREADABLE'} ${e.message.split('\n')[0]}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(`${file}: expected a strategy mapping (waves or byLabel, as spec.strategy of an AppSet)`);
  const record = value as Record<string, unknown>;
  // Accept `strategy: {...}` as well as the strategy itself.
  const strategy = record['strategy'];
  return typeof strategy === 'object' && strategy !== null && !Array.isArray(strategy) ? (strategy as Record<string, unknown>) : record;
}

/**
 * Follows a rollout until the watch decision says done, drawing it as it goes; resolves to the exit
 * code (3 after `timeoutMs`). Reads the rollout first (it may have finished already), then follows
 * `rolloutProgress`; when the hub ends the stream (the rollout finished) a last read settles it.
 */
async function watchRollout(io: Io, client: HubClient, id: string, timeoutMs: number | undefined): Promise<ExitCode> {
  const display = rolloutProgressDisplay(io);
  const first = await client.request(RolloutProgressNowDocument, { id });
  if (!first.rollout) throw new CliError(`no rollout with id ${id}`);
  let latest: RolloutProgressView = first.rollout;
  display.update(latest);
  let timedOut = false;
  if (decideRolloutWatch(latest).kind === 'wait') {
    let timer: NodeJS.Timeout | undefined;
    let stop: () => void = () => undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const subscription = client.subscribe(RolloutProgressDocument, { id }, (data) => {
          latest = data.rolloutProgress;
          display.update(latest);
          if (decideRolloutWatch(latest).kind === 'done') resolve();
        });
        stop = subscription.stop;
        subscription.done.then(resolve, reject);
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            timedOut = true;
            resolve();
          }, timeoutMs);
        }
      });
    } finally {
      if (timer) clearTimeout(timer);
      stop();
    }
    if (!timedOut && decideRolloutWatch(latest).kind === 'wait') {
      const last = await client.request(RolloutProgressNowDocument, { id });
      if (last.rollout) {
        latest = last.rollout;
        display.update(latest);
      }
    }
  }
  display.stop();
  if (timedOut) {
    io.err(`timed out after ${formatDuration(timeoutMs!)} waiting for rollout ${id} (${latest.phase}${latest.reason ? `: ${latest.reason}` : ''})\n`);
    return ExitCode.timedOut;
  }
  const decision = decideRolloutWatch(latest);
  if (decision.kind === 'wait') {
    io.err(`the hub ended the progress stream of rollout ${id} while it is ${latest.phase}\n`);
    return ExitCode.error;
  }
  const line = `rollout ${id} ${decision.outcome}${latest.reason && decision.exitCode !== ExitCode.ok ? `: ${latest.reason}` : ''}`;
  io.out(`${decision.exitCode === ExitCode.ok ? io.colors.green(line) : io.colors.red(line)}\n`);
  return decision.exitCode;
}

export function registerRolloutCommands(program: Command, io: Io): void {
  const rollout = program.command('rollout').description('roll AppSets out across the fleet in waves');

  withOutput(
    rollout
      .command('start <appset>')
      .description("start rolling an AppSet's staged revision out (exit with --wait: 0 succeeded, 1 failed/rolled back/aborted, 2 error, 3 timed out)")
      .option('--strategy-file <file>', "a strategy (as the AppSet's spec.strategy) for this rollout only")
      .option('--reason <text>', 'why, kept in the rollout and the audit trail', '')
      .option('--project <project>', 'the project of the AppSet, when two projects have one of that name')
      .option('--no-supersede', 'refuse instead of superseding an active rollout of the AppSet')
      .option('--wait', 'follow the rollout until it finishes')
      .option('--timeout <duration>', 'with --wait: give up after this long (exit 3), e.g. 10m'),
    ['table', 'wide', 'json', 'yaml', 'name'],
  ).action(async (appSet: string, options: { strategyFile?: string; reason: string; project?: string; supersede: boolean; wait?: boolean; timeout?: string }, command: Command) => {
    const timeoutMs = parseTimeout(options.timeout);
    if (timeoutMs !== undefined && !options.wait) throw new CliError('--timeout goes with --wait');
    const strategy = options.strategyFile ? readStrategy(options.strategyFile) : null;
    const client = contextFor(io, command).client();
    const { startRollout } = await client.request(StartRolloutDocument, { appSet, project: options.project ?? null, strategy, reason: options.reason, supersede: options.supersede });
    const format = outputOf(command);
    if (format === 'table' || format === 'wide') io.out(`rollout/${startRollout.id} started (${appSet} revision ${startRollout.appSetRevision})\n`);
    else printOutput(io, format, startRollout, rolloutView(io), [startRollout]);
    if (!options.wait) return;
    const exit = await watchRollout(io, client, startRollout.id, timeoutMs);
    if (exit !== ExitCode.ok) throw new CliError('', exit);
  });

  withOutput(
    rollout
      .command('status <id>')
      .description('show a rollout: waves, targets, events; --watch follows it live (exit codes as rollout start --wait)')
      .option('-w, --watch', 'follow the rollout until it finishes')
      .option('--timeout <duration>', 'with --watch: give up after this long (exit 3)'),
  ).action(async (id: string, options: { watch?: boolean; timeout?: string }, command: Command) => {
    const timeoutMs = parseTimeout(options.timeout);
    if (timeoutMs !== undefined && !options.watch) throw new CliError('--timeout goes with --watch');
    const client = contextFor(io, command).client();
    if (options.watch) {
      const exit = await watchRollout(io, client, id, timeoutMs);
      if (exit !== ExitCode.ok) throw new CliError('', exit);
      return;
    }
    const { rollout: found } = await client.request(RolloutDocument, { id });
    if (!found) throw new CliError(`no rollout with id ${id}`);
    const format = outputOf(command);
    if (format !== 'table' && format !== 'wide') return printOutput(io, format, found, rolloutView(io), [found]);
    printOutput(io, format, found, rolloutView(io), [found]);
    io.out('\n');
    printOutput(io, format, found, waveView, found.waves, 'No waves.');
    if (format === 'wide') {
      io.out('\n');
      printOutput(io, format, found, targetView, found.targets, 'No targets.');
    }
    io.out('\n');
    for (const event of found.events.slice(-10)) io.out(`${event.at}  ${event.kind}  ${event.actor}: ${event.message}\n`);
  });

  withOutput(
    rollout
      .command('list')
      .description('list rollouts, newest first')
      .option('--appset <name>', 'only the rollouts of this AppSet')
      .option('--limit <n>', 'at most this many per AppSet (1 to 100)', '20'),
  ).action(async (options: { appset?: string; limit: string }, command: Command) => {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError(`--limit ${options.limit}: expected a whole number from 1 to 100`);
    const { appSets } = await contextFor(io, command).client().request(RolloutsDocument, { first: limit });
    const rows = appSets
      .filter((a) => !options.appset || a.name === options.appset)
      .flatMap((a) => a.rollouts)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    printOutput(io, outputOf(command), rows, rolloutView(io), rows);
  });

  const verbs = [
    ['pause', 'stop releasing; what was released stays', PauseRolloutDocument, 'pauseRollout'],
    ['resume', 'continue a paused rollout', ResumeRolloutDocument, 'resumeRollout'],
    ['abort', 'stop for good; released clusters keep the new revision', AbortRolloutDocument, 'abortRollout'],
    ['rollback', 'release to every cluster that received this rollout what it had before', RollbackRolloutDocument, 'rollbackRollout'],
  ] as const;
  for (const [verb, description, document, field] of verbs) {
    withOutput(rollout.command(`${verb} <id>`).description(description).option('--reason <text>', 'why, kept in the rollout events and the audit trail', '')).action(
      async (id: string, options: { reason: string }, command: Command) => {
        const typed = document as TypedDocumentNode<Record<string, RolloutRowFragment>, { id: string; reason: string }>;
        const answer = await contextFor(io, command).client().request(typed, { id, reason: options.reason });
        const row = answer[field]!;
        const format = outputOf(command);
        if (format === 'table' || format === 'wide') io.out(`rollout/${row.id} ${row.phase}${row.reason ? `: ${row.reason}` : ''}\n`);
        else printOutput(io, format, row, rolloutView(io), [row]);
      },
    );
  }

  withOutput(rollout.command('approve <id> <wave>').description('let a wave that needs approval start').option('--reason <text>', 'why', '')).action(
    async (id: string, wave: string, options: { reason: string }, command: Command) => {
      const { approveWave } = await contextFor(io, command).client().request(ApproveWaveDocument, { id, wave, reason: options.reason });
      const format = outputOf(command);
      if (format === 'table' || format === 'wide') io.out(`rollout/${approveWave.id} wave ${wave} approved (${approveWave.phase})\n`);
      else printOutput(io, format, approveWave, rolloutView(io), [approveWave]);
    },
  );
}
