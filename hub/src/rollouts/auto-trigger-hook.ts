import { Injectable } from '@nestjs/common';

type StagedListener = (appSetId: string, revision: number) => Promise<void>;

/**
 * Where staging tells the auto trigger that a new revision was committed. AppSetsService calls it;
 * the auto trigger (which starts rollouts, and rollouts read AppSets) listens: the hook keeps
 * AppSetsService from depending on rollouts, which would be a dependency cycle.
 */
@Injectable()
export class AutoTriggerHook {
  private listener: StagedListener | undefined;

  /** Sets the one listener (the auto trigger). */
  listen(listener: StagedListener): void {
    this.listener = listener;
  }

  /** Call after the transaction that staged `revision` committed; resolves once the listener is done. Never rejects. */
  async staged(appSetId: string, revision: number): Promise<void> {
    await this.listener?.(appSetId, revision).catch(() => undefined);
  }

  /**
   * Call with the result of an apply once its transaction committed: tells the listener about every
   * AppSet it gave a new revision, then returns the result as it was.
   */
  async applied<T extends { readonly outcomes: readonly StagedOutcome[] }>(result: T): Promise<T> {
    for (const { appSet, changed } of result.outcomes) if (changed && appSet) await this.staged(appSet.id, appSet.currentRevision);
    return result;
  }
}

/** What the hook reads of an apply's outcome. */
interface StagedOutcome {
  readonly appSet: { readonly id: string; readonly currentRevision: number } | null;
  readonly changed: boolean;
}
