/** One user JWT the hub issued, as stored. */
export interface IssuedUser {
  readonly publicKey: string;
  /** When the JWT stops being valid. */
  readonly expiresAt: Date;
  /** Set when the user was revoked (deregistration, or revokeAgentCredentials). */
  readonly revokedAt: Date | null;
}

/**
 * The account JWT's revocation list: user public key → unix seconds; the server refuses every JWT of
 * that key issued at or before that second. An entry is kept only while a revoked JWT could still be
 * valid (until its expiry), so the list stays as short as the user JWT lifetime allows. For a key
 * revoked more than once the latest time wins. Keys come out sorted, so equal inputs sign equal claims.
 */
export function activeRevocations(users: readonly IssuedUser[], now: Date): Record<string, number> {
  const latest = new Map<string, number>();
  for (const user of users) {
    if (user.revokedAt === null || user.expiresAt.getTime() <= now.getTime()) continue;
    const seconds = Math.floor(user.revokedAt.getTime() / 1000);
    latest.set(user.publicKey, Math.max(latest.get(user.publicKey) ?? 0, seconds));
  }
  return Object.fromEntries([...latest.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

