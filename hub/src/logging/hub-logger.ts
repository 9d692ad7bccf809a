import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { LogConfig } from '../config/log-config';

/** Nest log levels enabled by FLOTILLA_LOG_LEVEL. */
const LEVELS: Record<'debug' | 'info' | 'warn' | 'error', LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

/** The format `auto` stands for: text on a terminal, JSON lines for a file, a pipe or a log collector. */
export function resolveLogFormat(config: LogConfig, isTerminal: boolean): 'json' | 'text' {
  if (config.format !== 'auto') return config.format;
  return isTerminal ? 'text' : 'json';
}

/**
 * The hub's logger: Nest's own ConsoleLogger, writing one JSON object per line
 * (`{"level","pid","timestamp","message","context"}`, with `stack` for errors) or text lines, coloured
 * only when standard output is a terminal, so that no ANSI escape ever reaches a file or a pipe.
 */
export function createHubLogger(config: LogConfig, level: keyof typeof LEVELS, isTerminal: boolean = process.stdout.isTTY === true): ConsoleLogger {
  const json = resolveLogFormat(config, isTerminal) === 'json';
  return new ConsoleLogger({ json, colors: !json && isTerminal, logLevels: LEVELS[level] });
}
