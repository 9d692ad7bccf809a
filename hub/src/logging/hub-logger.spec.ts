import { describe, expect, it, vi } from 'vitest';
import { createHubLogger, resolveLogFormat } from './hub-logger';

/** The escape that starts an ANSI colour code. */
const ANSI = /\p{Cc}\[/u;

/** What the logger writes for one info line and one error, through process.stdout and process.stderr. */
function capture(run: () => void): string[] {
  const lines: string[] = [];
  const grab = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((line) => line !== ''));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(grab);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(grab);
  try {
    run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines;
}

describe('the hub logger', () => {
  it.each([
    { format: 'auto', terminal: true, expected: 'text' },
    { format: 'auto', terminal: false, expected: 'json' },
    { format: 'json', terminal: true, expected: 'json' },
    { format: 'text', terminal: false, expected: 'text' },
  ] as const)('writes $expected for FLOTILLA_LOG_FORMAT=$format when standard output is a terminal: $terminal', ({ format, terminal, expected }) => {
    expect(resolveLogFormat({ format }, terminal)).toBe(expected);
  });

  it('writes one JSON object per line, without colour, when the output is not a terminal', () => {
    const logger = createHubLogger({ format: 'auto' }, 'info', false);
    const lines = capture(() => {
      logger.log('agent edge-1 connected', 'AgentLink');
      logger.error('could not reach the database', 'Error: ECONNREFUSED\n    at connect (pg.js:1:1)', 'Database');
    });
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toMatch(ANSI);
    const [info, error] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(info).toMatchObject({ level: 'log', context: 'AgentLink', message: 'agent edge-1 connected' });
    expect(error).toMatchObject({ level: 'error', context: 'Database', message: 'could not reach the database' });
  });

  it('writes text without colour to a pipe even when text is asked for', () => {
    const logger = createHubLogger({ format: 'text' }, 'info', false);
    const lines = capture(() => logger.log('GraphQL ready', 'Hub'));
    expect(lines).toEqual([expect.stringContaining('GraphQL ready')]);
    expect(lines[0]).not.toMatch(ANSI);
  });

  it('leaves out debug lines at level info', () => {
    const logger = createHubLogger({ format: 'json' }, 'info', false);
    expect(capture(() => logger.debug('noise', 'Hub'))).toEqual([]);
  });
});
