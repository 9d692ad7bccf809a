import { truncateText } from '@flotilla/proto';
import { LOG_LEVELS, type LogLevel } from './core/config.js';

/** Structured context of a log line. Values are serialised as JSON; secrets are redacted by key. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A JSON-lines logger. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Settings of {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** Receives one JSON line without the trailing newline. Defaults to stdout. */
  readonly write?: (line: string) => void;
  /** Clock for the `time` field. */
  readonly now?: () => number;
}

// Keys whose values must never reach a log: tokens and credentials, and manifests (which may hold
// Secrets and are large). Matched case-insensitively anywhere in the key.
const REDACTED_KEY = /token|credential|authorization|password|secret|manifest/i;
const MAX_DEPTH = 4;

/** Creates a logger that writes JSON lines at or above `level`. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const threshold = LOG_LEVELS.indexOf(options.level);
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, message: string, fields: LogFields | undefined): void => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const record = { time: new Date(now()).toISOString(), level, msg: truncateText(message, 512), ...sanitize(base, 0), ...sanitize(fields ?? {}, 0) };
      try {
        write(JSON.stringify(record));
      } catch {
        // Logging must never take the agent down (for example stdout closed by a dying parent).
      }
    };
    return {
      debug: (message, fields) => emit('debug', message, fields),
      info: (message, fields) => emit('info', message, fields),
      warn: (message, fields) => emit('warn', message, fields),
      error: (message, fields) => emit('error', message, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({});
}

/** A logger that drops everything (tests, tools). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

function sanitize(fields: LogFields, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = REDACTED_KEY.test(key) ? '[redacted]' : sanitizeValue(value, depth + 1);
  }
  return out;
}

function sanitizeValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) return { name: value.name, message: truncateText(value.message, 512) };
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return truncateText(value, 1024);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => sanitizeValue(item, depth + 1));
  return sanitize(value as LogFields, depth);
}
