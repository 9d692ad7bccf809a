/** A command as completion scripts see it: its name, words it takes, and its subcommands. */
export interface CompletionCommand {
  readonly name: string;
  readonly description: string;
  /** Long and short flags, e.g. `--output`, `-o`. */
  readonly flags: readonly string[];
  readonly subcommands: readonly CompletionCommand[];
}

/** Flags whose value is one of a fixed list (e.g. `--output` → table, json...). */
export type FlagChoices = Readonly<Record<string, readonly string[]>>;

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/**
 * The completion script of `program` for a shell. Bash and zsh (through bashcompinit) walk the words
 * typed so far down the command tree and offer the subcommands and flags of the command reached, or
 * the choices of a flag just typed; fish gets one `complete` line per subcommand and flag.
 */
export function completionScript(shell: CompletionShell, program: CompletionCommand, choices: FlagChoices): string {
  switch (shell) {
    case 'bash':
      return bashScript(program, choices);
    case 'zsh':
      return `#compdef ${program.name}\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(program, choices)}`;
    case 'fish':
      return fishScript(program, choices);
  }
}

function walk(command: CompletionCommand, path: readonly string[], visit: (command: CompletionCommand, path: readonly string[]) => void): void {
  visit(command, path);
  for (const sub of command.subcommands) walk(sub, [...path, sub.name], visit);
}

function bashScript(program: CompletionCommand, choices: FlagChoices): string {
  const fn = `_${program.name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  const paths: string[] = [];
  const cases: string[] = [];
  walk(program, [], (command, path) => {
    const key = path.join(' ');
    if (key) paths.push(key);
    const words = [...command.subcommands.map((s) => s.name), ...command.flags].join(' ');
    cases.push(`    ${shellQuote(key)}) words=${shellQuote(words)} ;;`);
  });
  const choiceCases = Object.entries(choices).map(([flag, values]) => `    ${flag}) COMPREPLY=( $(compgen -W ${shellQuote(values.join(' '))} -- "$cur") ); return ;;`);
  return [
    `# ${program.name} completion for bash; load with: source <(${program.name} completion bash)`,
    `${fn}() {`,
    '  local cur prev path word i words',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  case "$prev" in',
    ...choiceCases,
    '  esac',
    '  path=""',
    '  for ((i=1; i<COMP_CWORD; i++)); do',
    '    word="${COMP_WORDS[i]}"',
    '    case "$word" in -*) continue ;; esac',
    '    case "${path:+$path }$word" in',
    `      ${paths.map(shellQuote).join('|')}) path="\${path:+$path }$word" ;;`,
    '    esac',
    '  done',
    '  case "$path" in',
    ...cases,
    '    *) words="" ;;',
    '  esac',
    '  COMPREPLY=( $(compgen -W "$words" -- "$cur") )',
    '}',
    `complete -F ${fn} ${program.name}`,
    '',
  ].join('\n');
}

function fishScript(program: CompletionCommand, choices: FlagChoices): string {
  const lines = [`# ${program.name} completion for fish; load with: ${program.name} completion fish | source`, `complete -c ${program.name} -f`];
  walk(program, [], (command, path) => {
    const condition =
      path.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${path[path.length - 1]}` +
          (command.subcommands.length ? `; and not __fish_seen_subcommand_from ${command.subcommands.map((s) => s.name).join(' ')}` : '');
    for (const sub of command.subcommands) {
      lines.push(`complete -c ${program.name} -n ${shellQuote(condition)} -a ${shellQuote(sub.name)} -d ${shellQuote(sub.description)}`);
    }
    for (const flag of command.flags) {
      const spec = flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
      const values = choices[flag];
      const cond = path.length === 0 ? '' : ` -n ${shellQuote(`__fish_seen_subcommand_from ${path[path.length - 1]}`)}`;
      lines.push(`complete -c ${program.name}${cond} ${spec}${values ? ` -x -a ${shellQuote(values.join(' '))}` : ''}`);
    }
  });
  return `${[...new Set(lines)].join('\n')}\n`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
