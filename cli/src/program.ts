import { Command, CommanderError, Option } from 'commander';
import { registerAppSetCommands } from './commands/app-set.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerLoginCommands } from './commands/login.js';
import { registerRolloutCommands } from './commands/rollout.js';
import { ExitCode } from './core/exit-codes.js';
import { CliError } from './errors.js';
import { processIo, type Io } from './io.js';

const VERSION = '0.1.0';

/** The whole command tree, writing through `io`. */
export function buildProgram(io: Io): Command {
  const program = new Command('flotilla')
    .description("the operator's command line for a Flotilla hub: clusters, AppSets and rollouts")
    .version(VERSION)
    .addOption(new Option('--server <url>', "the hub's address (default: FLOTILLA_SERVER, else the current context's)"))
    .addOption(new Option('--token <token>', 'API token or OIDC access token (default: FLOTILLA_TOKEN, else the context\'s)'))
    .addOption(new Option('--context <name>', 'the context to use (login: the name to store it under)'))
    .option('--no-color', 'no colours, even on a terminal (NO_COLOR does the same)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) });
  registerLoginCommands(program, io);
  registerClusterCommands(program, io);
  registerAppSetCommands(program, io);
  registerRolloutCommands(program, io);
  registerCompletionCommand(program, io);
  // Every subcommand reports usage errors through the program's override and output.
  const inherit = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride().configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) }).showSuggestionAfterError();
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/** Runs the command line and returns the exit code (see core/exit-codes.ts). */
export async function run(argv: readonly string[], io?: Io): Promise<number> {
  const output = io ?? processIo(argv.includes('--no-color'));
  const program = buildProgram(output);
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with code 0; usage errors were printed by commander.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.error;
    }
    if (error instanceof CliError) {
      if (error.message) output.err(`error: ${error.message}\n`);
      return error.exitCode;
    }
    output.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.error;
  }
}
