import type { EntityManager } from 'typeorm';
import type { Issue } from '../core/issues';
import type { AppSetEntity } from './app-set.entity';

/** What applying AppSet documents takes and returns (AppSetsService.apply and applyDocuments). */

export interface ApplyAppSetOutcome {
  readonly appSet: AppSetEntity | null;
  readonly issues: readonly Issue[];
  /** False when the document equals the current revision (nothing new was stored). */
  readonly changed: boolean;
}

/** The Git commit a revision was read from. */
export interface RevisionCommit {
  readonly sha: string;
  readonly author: string;
  readonly subject: string;
  readonly time: Date;
}

/** How {@link AppSetsService.applyDocuments} stores its revisions. */
export interface ApplyDocumentsOptions {
  /** The revisions' author (an actor: `token:ci`, `git:platform`). */
  readonly author: string;
  readonly message: string;
  /** Stage even when the deletion breaker trips. */
  readonly force: boolean;
  /** The commit the documents were read from (a Git source's sync). */
  readonly commit?: RevisionCommit;
  /** The Git source that owns the AppSets from now on; undefined for the API (owner unchanged). */
  readonly sourceId?: string;
  /**
   * Runs first inside the transaction, after the AppSets' locks are taken: returning false applies
   * nothing (another replica already did). Runs again, as `after`, before the commit.
   */
  readonly within?: {
    before?(tx: EntityManager): Promise<boolean>;
    after?(tx: EntityManager, outcomes: readonly ApplyAppSetOutcome[]): Promise<void>;
  };
}

/** The outcome of applying several documents as one change: all of them, or none (with every issue, per document). */
export interface ApplyDocumentsOutcome {
  readonly applied: boolean;
  readonly outcomes: readonly ApplyAppSetOutcome[];
}
