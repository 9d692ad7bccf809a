import type { HttpAnswer, SocketOutcome } from './probes.js';

/** A GraphQL answer reduced to what a client can tell apart. */
export interface Answer {
  readonly status: number;
  readonly data: unknown;
  readonly errors: { readonly code: string | undefined; readonly message: string }[];
}

export function answerOf(http: HttpAnswer): Answer {
  return {
    status: http.status,
    data: http.json?.data ?? null,
    errors: (http.json?.errors ?? []).map((e) => ({ code: e.extensions?.code, message: e.message })),
  };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;

/** The value with `names` replaced (longest first), then ids and timestamps: what must match across calls and runs. */
export function scrub<T>(value: T, names: Record<string, string> = {}): T {
  let text = JSON.stringify(value);
  for (const [from, to] of Object.entries(names).sort((a, b) => b[0].length - a[0].length)) text = text.split(from).join(to);
  return JSON.parse(text.replace(UUID, '<id>').replace(TIMESTAMP, '<time>')) as T;
}

/** Table rows as `[title, row]` pairs, so that test names carry the whole sentence (`$field` titles are cut at 40 characters). */
export function titled<T>(rows: readonly T[], title: (row: T) => string): [string, T][] {
  return rows.map((row) => [title(row), row]);
}

/** What a client can tell apart about a graphql-ws conversation. */
export function summary(outcome: SocketOutcome): { acked: boolean; types: string[]; ended: string } {
  return { acked: outcome.acked, types: outcome.messages.map((m) => m.type), ended: outcome.ended };
}
