import { ratioSummary, spread, type RatioSummary, type Spread } from './stats.js';

/** One measurement of one side: named figures (milliseconds unless the figure says otherwise). */
export type Figures = Record<string, number>;

export interface PairOptions {
  /** Pairs run first and thrown away (JIT, caches, connection pools). */
  readonly warmup: number;
  /** Measured pairs; at least 5 per BENCH.md. */
  readonly pairs: number;
  /** After this long, no new pair starts (a run that is this slow still reports what it has). */
  readonly budgetMs: number;
}

export interface PairRun {
  readonly project: Figures[];
  readonly baseline: Figures[];
  /** True when the time budget cut the run short of `pairs`. */
  readonly cut: boolean;
}

/**
 * Runs the project's path (A) and its baseline (B) alternately, A B A B ..., so that both see the
 * same machine noise. Bounded in count (`warmup + pairs`) and in time (`budgetMs`).
 */
export async function alternate(options: PairOptions, project: (i: number) => Promise<Figures>, baseline: (i: number) => Promise<Figures>): Promise<PairRun> {
  const started = performance.now();
  const run = { project: [] as Figures[], baseline: [] as Figures[], cut: false };
  for (let i = 0; i < options.warmup + options.pairs; i++) {
    if (i > options.warmup && performance.now() - started > options.budgetMs) {
      run.cut = true;
      break;
    }
    const a = await project(i);
    const b = await baseline(i);
    if (i >= options.warmup) {
      run.project.push(a);
      run.baseline.push(b);
    }
  }
  return run;
}

/** A figure of a case: project and baseline over the measured pairs and their per-pair ratio. */
export interface FigureRow {
  readonly figure: string;
  readonly project: Spread;
  /** Absent for figures without a baseline (peak RSS, rows/s). */
  readonly baseline?: Spread;
  readonly ratio?: RatioSummary;
}

/** The outcome of one case (one N, one transport) of a scenario. */
export interface CaseResult {
  readonly label: string;
  readonly n: number;
  readonly pairs: number;
  readonly cut: boolean;
  readonly rows: FigureRow[];
  /** Further facts about the case (configuration used, pooled percentiles, peak RSS). */
  readonly facts: Record<string, number | string | boolean>;
  readonly raw: PairRun;
}

/**
 * Summarises `run`: for each figure of `compared`, the spread of both sides and the ratio per pair;
 * for each figure of `projectOnly`, the project's spread alone.
 */
export function summarise(run: PairRun, compared: readonly string[], projectOnly: readonly string[] = []): FigureRow[] {
  const values = (side: Figures[], key: string) => side.map((f) => f[key] ?? Number.NaN);
  const rows: FigureRow[] = compared.map((figure) => {
    const a = values(run.project, figure);
    const b = values(run.baseline, figure);
    return { figure, project: spread(a), baseline: spread(b), ratio: ratioSummary(a.map((x, i) => x / b[i]!)) };
  });
  for (const figure of projectOnly) rows.push({ figure, project: spread(values(run.project, figure)) });
  return rows;
}
