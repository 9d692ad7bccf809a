import { describe, expect, it } from 'vitest';
import pc from 'picocolors';
import { parse } from 'yaml';
import type { View } from '../core/output-format.js';
import { shouldColor, type Io } from '../io.js';
import { printOutput, renderTable } from './output.js';

function captureIo(columns = Infinity): Io & { stdout_: string[]; stderr_: string[] } {
  const stdout_: string[] = [];
  const stderr_: string[] = [];
  return {
    stdout_,
    stderr_,
    out: (t) => void stdout_.push(t),
    err: (t) => void stderr_.push(t),
    stdout: process.stdout,
    stdoutIsTTY: false,
    columns,
    colors: pc.createColors(false),
    env: {},
    now: () => new Date('2026-12-06T12:00:00Z'),
  };
}

const rows = [
  { name: 'demo-eu-west', reason: 'a long explanation of why this cluster waits, which goes on and on for quite a while' },
  { name: 'demo-us-east', reason: '' },
];
const view: View<(typeof rows)[number]> = {
  columns: [
    { header: 'NAME', cell: (r) => r.name },
    { header: 'REASON', cell: (r) => r.reason, flexible: true },
  ],
  name: (r) => `cluster/${r.name}`,
};

describe('renderTable', () => {
  it('prints a header and one line per row, columns aligned, without borders', () => {
    const text = renderTable({ header: ['NAME', 'N'], rows: [['a', '1'], ['bbbb', '22']], flexible: [false, false] }, Infinity);
    expect(text.split('\n')).toEqual(['NAME  N', 'a     1', 'bbbb  22', '']);
  });

  it('fits the terminal width, wrapping free text', () => {
    const text = renderTable({ header: ['NAME', 'REASON'], rows: rows.map((r) => [r.name, r.reason]), flexible: [false, true] }, 60);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    expect(text.replace(/\s+/g, ' ')).toContain('which goes on');
  });
});

describe('printOutput', () => {
  it('prints JSON and YAML of the data as it is', () => {
    const io = captureIo();
    printOutput(io, 'json', { clusters: rows }, view, rows);
    expect(JSON.parse(io.stdout_.join(''))).toEqual({ clusters: rows });
    const yaml = captureIo();
    printOutput(yaml, 'yaml', { clusters: rows }, view, rows);
    expect(parse(yaml.stdout_.join(''))).toEqual({ clusters: rows });
  });

  it('prints kind/name lines for -o name', () => {
    const io = captureIo();
    printOutput(io, 'name', rows, view, rows);
    expect(io.stdout_.join('')).toBe('cluster/demo-eu-west\ncluster/demo-us-east\n');
  });

  it('says on standard error that there is nothing, leaving standard output empty', () => {
    const io = captureIo();
    printOutput(io, 'table', [], view, [], 'No clusters.');
    expect(io.stdout_).toEqual([]);
    expect(io.stderr_.join('')).toBe('No clusters.\n');
  });
});

describe('shouldColor', () => {
  it.each([
    { isTTY: true, env: {}, flag: false, want: true },
    { isTTY: false, env: {}, flag: false, want: false },
    { isTTY: true, env: { NO_COLOR: '1' }, flag: false, want: false },
    { isTTY: true, env: { NO_COLOR: '' }, flag: false, want: true },
    { isTTY: true, env: { TERM: 'dumb' }, flag: false, want: false },
    { isTTY: true, env: {}, flag: true, want: false },
    { isTTY: false, env: { CI: 'true' }, flag: false, want: false },
  ])('on a terminal: $isTTY, env $env, --no-color $flag → $want', ({ isTTY, env, flag, want }) => {
    expect(shouldColor(isTTY, env, flag)).toBe(want);
  });
});
