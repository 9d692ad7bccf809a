import { Health } from '@flotilla/proto';
import { describeCondition, judged, type ResourceJudgement } from './judgement.js';
import { conditionsOf, field, textOf, type LiveObject } from './read.js';

// Conditions the namespace controller sets True when it cannot finish deleting the namespace's content.
const DELETION_FAILURES = new Set(['NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure']);
// Conditions it sets True while deletion is under way and merely waiting.
const DELETION_WAITS = ['NamespaceContentRemaining', 'NamespaceFinalizersRemaining'];

/**
 * Namespace: `Active` → HEALTHY. `Terminating` → PROGRESSING, since deletion normally finishes on its
 * own; but DEGRADED when the namespace controller reports that it cannot delete the content (discovery,
 * parsing or deletion failures), because then it will not finish without help. A namespace being deleted
 * is judged here rather than by the generic "being deleted" rule, for that distinction.
 */
export function judgeNamespace(object: LiveObject): ResourceJudgement {
  const deleting = textOf(field(object, 'metadata', 'deletionTimestamp')) !== undefined;
  const phase = textOf(field(object, 'status', 'phase')) ?? (deleting ? 'Terminating' : 'Active');
  if (phase === 'Active' && !deleting) return judged(Health.HEALTHY, 'Namespace is active');
  if (phase !== 'Terminating' && !deleting) return judged(Health.UNKNOWN, `Namespace phase is ${phase}`);
  const conditions = conditionsOf(object).filter((condition) => condition.status === 'True');
  const failure = conditions.find((condition) => DELETION_FAILURES.has(condition.type));
  if (failure !== undefined) return judged(Health.DEGRADED, `Namespace deletion is stuck: ${describeCondition(failure, failure.type)}`);
  const waiting = DELETION_WAITS.map((type) => conditions.find((condition) => condition.type === type)).find((condition) => condition !== undefined);
  return judged(Health.PROGRESSING, `Namespace is being deleted${waiting === undefined ? '' : `: ${describeCondition(waiting)}`}`);
}
