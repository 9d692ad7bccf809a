import { isAbsolute, join } from 'node:path';

/** Where the hub finds the built dashboard (the `web/` package) that it serves at `/`. */
export interface WebConfig {
  /**
   * FLOTILLA_WEB_DIR: the folder holding the built dashboard's index.html and assets/; default the
   * dist/ folder of the repository's web package (`npm run build -w web`). A folder without
   * index.html is not an error: the hub then answers `/` with how to build the dashboard.
   */
  readonly dir: string;
  /** True when FLOTILLA_WEB_DIR named the folder (a missing dashboard is then worth a warning). */
  readonly explicit: boolean;
}

/** web/dist beside hub/ in the repository (from hub/src/config and hub/dist/config alike). */
export const DEFAULT_WEB_DIR = join(__dirname, '..', '..', '..', 'web', 'dist');

/** Reads FLOTILLA_WEB_DIR; a bad value is added to `problems`. */
export function loadWebConfig(env: Record<string, string | undefined>, problems: string[]): WebConfig {
  const raw = env['FLOTILLA_WEB_DIR']?.trim();
  if (raw === undefined || raw === '') return { dir: DEFAULT_WEB_DIR, explicit: false };
  if (!isAbsolute(raw)) {
    problems.push(`FLOTILLA_WEB_DIR must be an absolute path (got "${raw.slice(0, 200)}")`);
    return { dir: DEFAULT_WEB_DIR, explicit: false };
  }
  return { dir: raw, explicit: true };
}
