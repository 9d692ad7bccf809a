import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** Where a command writes and what it knows of its terminal; tests and main build one each. */
export interface Io {
  /** Standard output: the answer (tables, JSON, diffs). */
  out(text: string): void;
  /** Standard error: progress notes, warnings, errors. */
  err(text: string): void;
  readonly stdout: NodeJS.WriteStream;
  readonly stdoutIsTTY: boolean;
  /** Terminal width for tables; Infinity when the output is not a terminal and COLUMNS is unset. */
  readonly columns: number;
  /** Colours for standard output: on a terminal only, and never under NO_COLOR, TERM=dumb or --no-color. */
  readonly colors: Colors;
  readonly env: NodeJS.ProcessEnv;
  now(): Date;
}

/**
 * Whether to colour: only on a terminal, never when NO_COLOR is set to anything non-empty (no-color.org),
 * TERM is dumb or --no-color was given.
 */
export function shouldColor(isTTY: boolean, env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return isTTY;
}

export function processIo(noColorFlag: boolean): Io {
  const isTTY = process.stdout.isTTY === true;
  const envColumns = Number(process.env['COLUMNS']);
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdout: process.stdout,
    stdoutIsTTY: isTTY,
    columns: isTTY && process.stdout.columns ? process.stdout.columns : Number.isInteger(envColumns) && envColumns > 0 ? envColumns : Infinity,
    colors: pc.createColors(shouldColor(isTTY, process.env, noColorFlag)),
    env: process.env,
    now: () => new Date(),
  };
}
