import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completionScript, type CompletionCommand } from './completion.js';

const tree: CompletionCommand = {
  name: 'flotilla',
  description: 'cli',
  flags: ['--server', '--token'],
  subcommands: [
    {
      name: 'cluster',
      description: "the fleet's clusters",
      flags: [],
      subcommands: [
        { name: 'list', description: 'list', flags: ['-o', '--output'], subcommands: [] },
        { name: 'get', description: 'get one', flags: ['-o', '--output'], subcommands: [] },
      ],
    },
    { name: 'login', description: 'log in', flags: ['--server', '--oidc'], subcommands: [] },
  ],
};
const choices = { '-o': ['table', 'json'], '--output': ['table', 'json'] };

/** What bash completes for the words typed so far (the last one being completed). */
function completeInBash(words: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'completion-'));
  const script = join(dir, 'c.bash');
  writeFileSync(script, completionScript('bash', tree, choices));
  const program = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _flotilla_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('completionScript', () => {
  it('completes top-level commands and flags in bash', () => {
    expect(completeInBash(['flotilla', ''])).toEqual(['cluster', 'login', '--server', '--token']);
    expect(completeInBash(['flotilla', 'cl'])).toEqual(['cluster']);
  });

  it('completes the subcommands of the command reached, skipping flags', () => {
    expect(completeInBash(['flotilla', '--server', 'cluster', ''])).toEqual(['list', 'get']);
  });

  it('completes the choices of -o', () => {
    expect(completeInBash(['flotilla', 'cluster', 'list', '-o', 'j'])).toEqual(['json']);
  });

  it('gives zsh the bash function through bashcompinit', () => {
    const zsh = completionScript('zsh', tree, choices);
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain('complete -F _flotilla_complete flotilla');
  });

  it('gives fish one line per subcommand and flag, quoting descriptions', () => {
    const fish = completionScript('fish', tree, choices);
    expect(fish).toContain(`complete -c flotilla -n '__fish_use_subcommand' -a 'cluster' -d 'the fleet'\\''s clusters'`);
    expect(fish).toContain(`-a 'list' -d 'list'`);
    expect(fish).toContain(`-l output -x -a 'table json'`);
  });
});
