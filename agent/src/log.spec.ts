import { describe, expect, it } from 'vitest';
import { createLogger, type LogFields } from './log.js';

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level, now: () => 0, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with time, level and message', () => {
    const { log, lines } = capture();
    log.info('agent connected', { cluster: 'edge-1' });
    expect(lines).toEqual([{ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'agent connected', cluster: 'edge-1' }]);
  });

  it.each([
    { name: 'debug lines are dropped at info', level: 'info' as const, want: ['info', 'warn', 'error'] },
    { name: 'everything below error is dropped at error', level: 'error' as const, want: ['error'] },
    { name: 'everything is written at debug', level: 'debug' as const, want: ['debug', 'info', 'warn', 'error'] },
  ])('$name', ({ level, want }) => {
    const { log, lines } = capture(level);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((line) => line['level'])).toEqual(want);
  });

  it.each([
    { name: 'a token is redacted', fields: { bootstrapToken: 'bt-123' } },
    { name: 'an authorization value is redacted', fields: { Authorization: 'Bearer x' } },
    { name: 'a credential nested in an object is redacted', fields: { welcome: { agentCredential: 'cred' } } },
    { name: 'manifests are never logged', fields: { manifestsJson: '[{"kind":"Secret"}]' } },
  ])('$name', ({ fields }: { fields: LogFields }) => {
    const { log, lines } = capture();
    log.info('x', fields);
    const text = JSON.stringify(lines);
    expect(text).toContain('[redacted]');
    expect(text).not.toMatch(/bt-123|Bearer x|"cred"|Secret/);
  });

  it('serialises errors and bigints', () => {
    const { log, lines } = capture();
    log.error('failed', { error: new Error('disk full'), generation: 5n });
    expect(lines[0]).toMatchObject({ error: { name: 'Error', message: 'disk full' }, generation: '5' });
  });

  it('adds child fields to every line', () => {
    const { log, lines } = capture();
    log.child({ component: 'hub-link' }).warn('down');
    expect(lines[0]).toMatchObject({ component: 'hub-link', msg: 'down' });
  });

  it('survives a writer that throws', () => {
    const log = createLogger({ level: 'info', write: () => { throw new Error('EPIPE'); } });
    expect(() => log.info('x')).not.toThrow();
  });
});
