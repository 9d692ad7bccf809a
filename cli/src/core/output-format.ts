/** The `-o` values every read command takes. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Reads `-o`; throws an Error listing the accepted values for anything else. */
export function parseOutputFormat(text: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(text)) return text as OutputFormat;
  throw new Error(`-o ${text}: expected one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** A column of a table: its header, its cell, and whether only `-o wide` shows it. */
export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => string;
  readonly wide?: boolean;
  /** Cells may be wrapped or cut to fit the terminal (true for free text such as reasons). */
  readonly flexible?: boolean;
}

/** How a kind of object is shown: columns for table/wide, `kind/name` for -o name. */
export interface View<Row> {
  readonly columns: readonly Column<Row>[];
  readonly name: (row: Row) => string;
}

/** The header and cells of a table for `table` (without wide columns) or `wide`. */
export function tableCells<Row>(view: View<Row>, rows: readonly Row[], wide: boolean): { header: string[]; rows: string[][]; flexible: boolean[] } {
  const columns = view.columns.filter((c) => wide || !c.wide);
  return {
    header: columns.map((c) => c.header),
    rows: rows.map((row) => columns.map((c) => c.cell(row))),
    flexible: columns.map((c) => c.flexible === true),
  };
}

/**
 * Widths for the columns of a table so that it fits `width` characters (each column takes its widest
 * cell plus `gap`). When too wide, flexible columns shrink first, widest first, down to `min`; then the
 * others. Never below `min`: a terminal too narrow for that gets a table that wraps.
 */
export function fitColumnWidths(natural: readonly number[], flexible: readonly boolean[], width: number, gap = 2, min = 8): number[] {
  const widths = natural.map((w) => w + gap);
  let excess = widths.reduce((a, b) => a + b, 0) - width;
  for (const pass of [true, false]) {
    // Each round takes one character from the widest shrinkable column: bounded by the total excess.
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if ((pass ? flexible[i] : true) && widths[i]! > min + gap && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      }
      if (widest < 0) break;
      widths[widest]! -= 1;
      excess -= 1;
    }
  }
  return widths;
}

/** Labels as `k=v,k2=v2`, sorted by key; '' for none. */
export function formatLabels(labels: Readonly<Record<string, unknown>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${String(labels[k])}`)
    .join(',');
}

/** The first 12 characters of a revision (a sha256), or '-' for none. */
export function shortRevision(revision: string | null | undefined): string {
  if (!revision) return '-';
  return revision.replace(/^sha256:/, '').slice(0, 12);
}
