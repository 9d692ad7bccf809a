import { Option, type Command } from 'commander';
import { OUTPUT_FORMATS, parseOutputFormat, type OutputFormat } from '../core/output-format.js';
import type { Io } from '../io.js';
import { openSession, type GlobalOptions } from '../session.js';
import type { HubClient } from '../client/hub-client.js';

/** What every command's action gets: where to write, and a client for the hub when it needs one. */
export interface CommandContext {
  readonly io: Io;
  /** The hub of the flags, environment or current context (opened on first use). */
  client(): HubClient;
}

/** Adds `-o, --output` (table by default) to a read command. */
export function withOutput(command: Command, formats: readonly string[] = OUTPUT_FORMATS): Command {
  return command.addOption(new Option('-o, --output <format>', 'output format').choices(formats).default('table'));
}

/** The parsed `-o` of a command. */
export function outputOf(command: Command): OutputFormat {
  return parseOutputFormat(String(command.opts()['output'] ?? 'table'));
}

export function contextFor(io: Io, command: Command): CommandContext {
  let client: HubClient | undefined;
  return {
    io,
    client: () => (client ??= openSession(io, command.optsWithGlobals() as GlobalOptions)),
  };
}

/** Collects a repeatable option (`--label a=b --label c=d`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
