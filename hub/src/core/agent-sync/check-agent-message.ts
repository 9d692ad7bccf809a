import { truncateText } from '@flotilla/proto';

/**
 * Bounds on the numbers and names an agent sends, checked before anything it says reaches the
 * database. These checks need nothing but the message (and `now`); whether a well-formed claim names
 * something the hub released to that cluster is decided against the hub's own rows by the caller.
 */

/**
 * The largest generation the hub can ever issue: the maximum of PostgreSQL's `bigint`, the type of the
 * `release_generation` sequence. The wire carries `uint64`, so an agent can send larger numbers; none
 * of them was issued by the hub.
 */
export const MAX_GENERATION = 2n ** 63n - 1n;

/** Longest App name the hub releases (`apps.name`, a DNS label). */
export const MAX_RELEASED_APP_NAME_CHARS = 63;

/**
 * Longest App name an agent may hold (it refuses longer ones), so the longest name a removal of an App
 * the hub has no record of can carry.
 */
export const MAX_HELD_APP_NAME_CHARS = 253;

/** Largest clock lead of an agent over the hub accepted in `observedAt`, in milliseconds. */
export const MAX_CLOCK_LEAD_MS = 24 * 3600 * 1000;

const REVISION = /^[0-9a-f]{64}$/;

/** True when `generation` is one the hub could have issued: 1 to {@link MAX_GENERATION}. */
export function isIssuableGeneration(generation: bigint): boolean {
  return generation >= 1n && generation <= MAX_GENERATION;
}

/** True when `revision` has the form of a Revision (64 lowercase hex digits, a sha256). */
export function isRevision(revision: string): boolean {
  return REVISION.test(revision);
}

/** An Ack as received (the generated `Ack` message fits this shape). */
export interface IncomingAck {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
  readonly accepted: boolean;
  readonly error: string;
}

/**
 * What an Ack may be taken for. `release`: the agent's answer to a DesiredApp of `revision` at
 * `generation` (recorded only if that is the cluster's current release of the App). `removal`: its
 * answer to a RemoveApp (`revision` empty). `ignore`: malformed or out of range, with the reason.
 * `error` is null for an accepted Ack and bounded text otherwise.
 */
export type AckCheck =
  | { readonly kind: 'release'; readonly appName: string; readonly revision: string; readonly generation: bigint; readonly error: string | null }
  | { readonly kind: 'removal'; readonly appName: string; readonly generation: bigint; readonly accepted: boolean; readonly error: string | null }
  | { readonly kind: 'ignore'; readonly reason: string };

/**
 * Checks the form and range of an Ack. Never throws. A generation outside 1 to {@link MAX_GENERATION}
 * was never issued; a revision that is not a sha256 was never released; a name longer than any the
 * hub releases (or, for a removal, than any the agent may hold) names nothing the hub has.
 */
export function checkAck(ack: IncomingAck): AckCheck {
  if (!isIssuableGeneration(ack.generation)) return { kind: 'ignore', reason: 'generation never issued' };
  const error = ack.accepted ? null : truncateText(ack.error || 'refused by the agent');
  if (ack.revision === '') {
    if (ack.appName === '' || ack.appName.length > MAX_HELD_APP_NAME_CHARS) return { kind: 'ignore', reason: 'App name out of range' };
    return { kind: 'removal', appName: ack.appName, generation: ack.generation, accepted: ack.accepted, error };
  }
  if (ack.appName === '' || ack.appName.length > MAX_RELEASED_APP_NAME_CHARS) return { kind: 'ignore', reason: 'App name out of range' };
  if (!isRevision(ack.revision)) return { kind: 'ignore', reason: 'not a revision' };
  return { kind: 'release', appName: ack.appName, revision: ack.revision, generation: ack.generation, error };
}

/** The parts of a Report that carry the agent's numbers (the generated `Report` message fits this shape). */
export interface IncomingReportHeader {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
  /** Agent clock, milliseconds since the Unix epoch; 0 when unset. */
  readonly observedAtUnixMs: bigint;
}

/** What a Report may be taken for: a judgement of `revision` at `generation`, observed at `observedAt`; or nothing. */
export type ReportCheck =
  | { readonly kind: 'judgement'; readonly appName: string; readonly revision: string; readonly generation: bigint; readonly observedAt: Date }
  | { readonly kind: 'ignore'; readonly reason: string };

/**
 * Checks the form and range of a Report, as {@link checkAck} does. The observation time is the agent's
 * clock: unset, before the epoch, or more than {@link MAX_CLOCK_LEAD_MS} after `now`, it is replaced by
 * `now` (the hub shows it, and orders the reports of one generation by it).
 */
export function checkReport(report: IncomingReportHeader, now: Date): ReportCheck {
  if (!isIssuableGeneration(report.generation)) return { kind: 'ignore', reason: 'generation never issued' };
  if (report.appName === '' || report.appName.length > MAX_RELEASED_APP_NAME_CHARS) return { kind: 'ignore', reason: 'App name out of range' };
  if (!isRevision(report.revision)) return { kind: 'ignore', reason: 'not a revision' };
  const latest = BigInt(now.getTime() + MAX_CLOCK_LEAD_MS);
  const observedAt = report.observedAtUnixMs > 0n && report.observedAtUnixMs <= latest ? new Date(Number(report.observedAtUnixMs)) : new Date(now.getTime());
  return { kind: 'judgement', appName: report.appName, revision: report.revision, generation: report.generation, observedAt };
}
