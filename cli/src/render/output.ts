import Table from 'cli-table3';
import { stringify } from 'yaml';
import { fitColumnWidths, tableCells, type OutputFormat, type View } from '../core/output-format.js';
import type { Io } from '../io.js';

/** A table with no borders, as kubectl prints them, fitted to `width` (cells wrap where needed). */
export function renderTable(cells: { header: string[]; rows: string[][]; flexible: boolean[] }, width: number): string {
  const natural = cells.header.map((h, i) => Math.max(h.length, ...cells.rows.map((r) => longestLine(r[i] ?? ''))));
  const table = new Table({
    head: cells.header,
    colWidths: Number.isFinite(width) ? fitColumnWidths(natural, cells.flexible, width - 1) : natural.map((n) => n + 2),
    wordWrap: true,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2, compact: true },
  });
  table.push(...cells.rows);
  return `${table.toString().split('\n').map((line) => line.trimEnd()).join('\n')}\n`;
}

/**
 * Prints `data` in the `-o` format: JSON or YAML of the API's answer as it is, `kind/name` lines, or a
 * table of `rows`. An empty table says so on standard error, as kubectl does.
 */
export function printOutput<Row>(io: Io, format: OutputFormat, data: unknown, view: View<Row>, rows: readonly Row[], empty = 'No resources found.'): void {
  switch (format) {
    case 'json':
      io.out(`${JSON.stringify(data, null, 2)}\n`);
      return;
    case 'yaml':
      io.out(stringify(data, { lineWidth: 0 }));
      return;
    case 'name':
      for (const row of rows) io.out(`${view.name(row)}\n`);
      return;
    case 'table':
    case 'wide':
      if (rows.length === 0) {
        io.err(`${empty}\n`);
        return;
      }
      io.out(renderTable(tableCells(view, rows, format === 'wide'), io.columns));
  }
}

function longestLine(text: string): number {
  return Math.max(0, ...text.split('\n').map((l) => l.length));
}
