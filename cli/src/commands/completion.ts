import type { Command } from 'commander';
import { COMPLETION_SHELLS, completionScript, type CompletionCommand, type CompletionShell } from '../core/completion.js';
import { OUTPUT_FORMATS } from '../core/output-format.js';
import type { Io } from '../io.js';
import { Argument } from 'commander';

/** The command tree as completion sees it, read from commander (one source for parsing and completion). */
export function completionTree(command: Command): CompletionCommand {
  return {
    name: command.name(),
    description: command.description(),
    flags: command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === 'string')),
    subcommands: command.commands.map(completionTree),
  };
}

export function registerCompletionCommand(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a shell completion script, e.g. source <(flotilla completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .action((shell: CompletionShell) => {
      io.out(completionScript(shell, completionTree(program), { '-o': OUTPUT_FORMATS, '--output': OUTPUT_FORMATS }));
    });
}
