/** The Git commit a revision was applied from (as a Git source records it); every field optional. */
export interface RevisionCommit {
  readonly sha?: string | null;
  readonly author?: string | null;
  readonly subject?: string | null;
  /** When the commit was made, ms since epoch. */
  readonly time?: number | null;
}

/** Longest commit subject and author quoted in a start reason, in characters. */
const MAX_QUOTED_CHARS = 200;

/**
 * Why the auto trigger started a rollout, as one line of at most 1000 characters: the revision and,
 * when it came from Git, the commit (full SHA, subject, author, time). Control characters in the
 * commit's text become spaces; long subjects and authors are cut with `…`. Pure.
 */
export function autoStartReason(revision: number, commit?: RevisionCommit): string {
  const base = `trigger auto: revision ${revision} was staged`;
  if (!commit?.sha) return `${base}.`;
  const parts = [`${base} from commit ${oneLine(commit.sha).slice(0, 64)}`];
  if (commit.subject) parts.push(`"${quoted(commit.subject)}"`);
  if (commit.author) parts.push(`by ${quoted(commit.author)}`);
  if (typeof commit.time === 'number' && Number.isFinite(commit.time)) parts.push(`at ${new Date(commit.time).toISOString()}`);
  return `${parts.join(' ')}.`.slice(0, 1000);
}

function oneLine(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ').trim();
}

function quoted(text: string): string {
  const line = oneLine(text);
  return line.length > MAX_QUOTED_CHARS ? `${line.slice(0, MAX_QUOTED_CHARS - 1)}…` : line;
}
