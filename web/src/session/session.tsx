import { createContext, useContext } from 'react';
import type { MeQuery } from '../gen/graphql';

export type Me = MeQuery['me'];

/** The signed-in caller and how to end the session. */
export interface Session {
  readonly me: Me;
  signOut(message?: string): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/**
 * Whether the caller may change things in a project (pause, approve, apply...): an admin, or an
 * OPERATOR or ADMIN grant there. Without a project (not known on the page): any such grant. The hub
 * checks again; this only hides what would be refused.
 */
export function canOperate(me: Me, project?: string): boolean {
  if (me.admin) return true;
  return me.projects.some((grant) => grant.role !== 'VIEWER' && (project === undefined || grant.project === project));
}

/** The longest delay setTimeout takes (about 24.8 days); a later expiry is re-checked then. */
const MAX_TIMER_MS = 2_147_483_647;

/** Milliseconds from `now` until `expiresAt` (0 when past), capped to what a timer accepts; undefined without expiry. */
export function msUntilExpiry(expiresAt: string | null, now: number): number | undefined {
  if (!expiresAt) return undefined;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_TIMER_MS);
}

/** What the sign-in page says when the session ended because its credential expired. */
export function expiredNotice(kind: string): string {
  return kind === 'oidc'
    ? 'Your session ended: your single sign-on access token expired. Sign in again.'
    : 'Your session ended: the token expired. Sign in again.';
}
