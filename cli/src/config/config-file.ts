import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { EMPTY_CONFIG, parseCliConfig, type CliConfig } from '../core/cli-config.js';

/**
 * `$XDG_CONFIG_HOME/flotilla/config.yaml`, else `~/.config/flotilla/config.yaml` (an XDG_CONFIG_HOME
 * that is not absolute is ignored, as the XDG spec says).
 */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CONFIG_HOME'];
  const base = xdg && xdg.startsWith('/') ? xdg : join(env['HOME'] || homedir(), '.config');
  return join(base, 'flotilla', 'config.yaml');
}

/** Reads the config file; a missing file is an empty config. Throws with the file's name on bad YAML or content. */
export function readConfigFile(file: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_CONFIG;
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new Error(`${file}: not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseCliConfig(value, file);
}

/**
 * Writes the config file with mode 0600 in a folder of mode 0700 (both tightened if they exist
 * looser): it holds tokens. Written to a temporary file and renamed, so a reader never sees half of it.
 */
export function writeConfigFile(file: string, config: CliConfig): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, stringify(config, { lineWidth: 0 }), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
