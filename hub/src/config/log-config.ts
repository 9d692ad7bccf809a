/** How the hub writes its log. */
export interface LogConfig {
  /**
   * FLOTILLA_LOG_FORMAT: `json` (one JSON object per line, no colours: for files, pipes and log
   * collectors), `text` (Nest's readable lines, coloured only on a terminal), or `auto` (unset: text
   * when standard output is a terminal, JSON otherwise).
   */
  readonly format: 'json' | 'text' | 'auto';
}

const FORMATS = ['json', 'text', 'auto'] as const;

/** Reads FLOTILLA_LOG_FORMAT; a bad value is a problem (the hub then refuses to start). */
export function loadLogConfig(env: Record<string, string | undefined>, problems: string[]): LogConfig {
  const raw = env['FLOTILLA_LOG_FORMAT']?.trim().toLowerCase() || 'auto';
  if (!(FORMATS as readonly string[]).includes(raw)) {
    problems.push(`FLOTILLA_LOG_FORMAT must be json, text or auto (got "${env['FLOTILLA_LOG_FORMAT']!.slice(0, 20)}")`);
    return { format: 'auto' };
  }
  return { format: raw as LogConfig['format'] };
}
