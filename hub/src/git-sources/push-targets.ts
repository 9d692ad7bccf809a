/**
 * What a verified push event asks of the Git sources: which sources follow the pushed repository and
 * branch, and a sync of each. The webhook endpoint depends on this seam only; the Git sources service
 * implements it.
 */
export interface GitPushTargets {
  /**
   * The sources that follow one of `repoURLs` (the push's clone, SSH and web addresses; compared
   * normalised: scheme, credentials, a trailing `.git` and the host's case do not matter) at `ref`
   * (`refs/heads/main`, `refs/tags/v1`); a source pinned to a commit follows no ref.
   */
  sourcesForPush(repoURLs: readonly string[], ref: string): Promise<readonly { name: string; project: string }[]>;
  /** Asks for a sync of the source soon; many requests before it starts coalesce into one sync. */
  requestSync(name: string, cause: string): void;
}

/** The Nest injection token of {@link GitPushTargets}. */
export const GIT_PUSH_TARGETS = Symbol('GIT_PUSH_TARGETS');
