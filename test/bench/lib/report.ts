import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CaseResult, FigureRow } from './pairs.js';
import { round, type RatioSummary } from './stats.js';

/** Where the history of ratios lives (committed: one line per run, scenario, case and figure). */
export const HISTORY_FILE = new URL('../history.jsonl', import.meta.url);

/** A ratio this far outside the previous spread (factor) is flagged. */
const FLAG_FACTOR = 1.25;
/** Previous runs consulted for the spread. */
const HISTORY_DEPTH = 10;

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly loadAverage: readonly number[];
  readonly node: string;
  readonly platform: string;
  readonly date: string;
  readonly commit: string;
}

export function machineFacts(): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a Git checkout: the commit stays unknown.
  }
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map(round),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    commit,
  };
}

/** What one scenario reports: its cases, how they ran, and what it measures. */
export interface ScenarioReport {
  readonly scenario: string;
  readonly title: string;
  readonly profile: 'quick' | 'full';
  readonly notes: readonly string[];
  readonly cases: readonly CaseResult[];
  readonly error?: string;
}

interface HistoryLine {
  readonly date: string;
  readonly commit: string;
  readonly scenario: string;
  readonly profile: string;
  readonly case: string;
  readonly figure: string;
  readonly ratio: RatioSummary;
}

/** Flags a ratio well outside the spread of the previous runs of the same figure ('' when calm or new). */
function flagOf(history: readonly HistoryLine[], line: Omit<HistoryLine, 'date' | 'commit' | 'ratio'>, ratio: RatioSummary): string {
  const previous = history.filter((h) => h.scenario === line.scenario && h.profile === line.profile && h.case === line.case && h.figure === line.figure).slice(-HISTORY_DEPTH);
  // A ratio over a baseline too small to measure is stored as null (JSON has no Infinity): no spread.
  const finite = (value: number | null | undefined): value is number => typeof value === 'number' && Number.isFinite(value);
  const lows = previous.map((h) => h.ratio.min).filter(finite);
  const highs = previous.map((h) => h.ratio.max).filter(finite);
  if (lows.length === 0 || highs.length === 0 || !finite(ratio.median)) return 'new';
  const low = Math.min(...lows);
  const high = Math.max(...highs);
  if (ratio.median > high * FLAG_FACTOR) return `REGRESSION (was ${round(low)}–${round(high)})`;
  if (ratio.median < low / FLAG_FACTOR) return `faster (was ${round(low)}–${round(high)})`;
  return 'ok';
}

function readHistory(): HistoryLine[] {
  if (!existsSync(HISTORY_FILE)) return [];
  return readFileSync(HISTORY_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HistoryLine);
}

const fmt = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '–' : String(round(value)));
const ratioText = (r: RatioSummary | undefined): string => (r ? `**${fmt(r.median)}** (${fmt(r.min)}–${fmt(r.max)})` : '–');

function rowText(label: string, row: FigureRow, flag: string): string {
  const b = row.baseline;
  return `| ${label} | ${row.figure} | ${fmt(row.project.p50)} | ${fmt(row.project.p99)} | ${fmt(b?.p50)} | ${fmt(b?.p99)} | ${ratioText(row.ratio)} | ${flag} |`;
}

/**
 * Writes `<dir>/<scenario>.json` and `.md`, appends the ratios to the history file, and returns the
 * Markdown (regression flags computed against the history before this run was appended).
 */
export function writeReport(dir: string, report: ScenarioReport, machine: Machine): string {
  mkdirSync(dir, { recursive: true });
  const history = readHistory();
  const lines: string[] = [`### ${report.scenario}: ${report.title} (${report.profile})`, ''];
  if (report.error) lines.push(`**Crashed:** ${report.error}`, '');
  lines.push('| case | figure | project p50 | project p99 | baseline p50 | baseline p99 | ratio median (min–max) | history |', '|---|---|---|---|---|---|---|---|');
  const appended: HistoryLine[] = [];
  for (const c of report.cases) {
    for (const row of c.rows) {
      const key = { scenario: report.scenario, profile: report.profile, case: c.label, figure: row.figure };
      const flag = row.ratio ? flagOf(history, key, row.ratio) : '';
      lines.push(rowText(c.label, row, flag));
      if (row.ratio) appended.push({ date: machine.date, commit: machine.commit, ...key, ratio: { median: round(row.ratio.median), min: round(row.ratio.min), max: round(row.ratio.max) } });
    }
  }
  lines.push('');
  for (const c of report.cases) {
    const facts = Object.entries(c.facts).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`);
    lines.push(`- ${c.label}: ${c.pairs} pairs${c.cut ? ' (cut by the time budget)' : ''}; ${facts.join(', ')}`);
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  lines.push(`- machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverage.join(' ')}, ${machine.date}, commit ${machine.commit}`);
  const markdown = lines.join('\n');
  writeFileSync(join(dir, `${report.scenario}.json`), `${JSON.stringify({ ...report, machine }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  writeFileSync(join(dir, `${report.scenario}.md`), `${markdown}\n`);
  if (appended.length > 0) appendFileSync(HISTORY_FILE, appended.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return markdown;
}
