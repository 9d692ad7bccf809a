import { Health } from '@flotilla/proto';
import { judged, type ResourceJudgement } from './judgement.js';
import { field, textOf, type LiveObject } from './read.js';

/**
 * PersistentVolumeClaim by `status.phase`: `Bound` → HEALTHY, `Lost` (its volume is gone) → DEGRADED,
 * `Pending` → PROGRESSING. A claim of a `WaitForFirstConsumer` storage class stays `Pending`, and so
 * PROGRESSING, until a pod uses it.
 */
export function judgePersistentVolumeClaim(object: LiveObject): ResourceJudgement {
  const phase = textOf(field(object, 'status', 'phase')) ?? 'Pending';
  const volume = textOf(field(object, 'spec', 'volumeName'));
  switch (phase) {
    case 'Bound':
      return judged(Health.HEALTHY, volume === undefined ? 'claim is bound' : `bound to volume ${volume}`);
    case 'Lost':
      return judged(Health.DEGRADED, volume === undefined ? 'claim lost its volume' : `claim lost its volume ${volume}`);
    case 'Pending':
      return judged(Health.PROGRESSING, 'waiting for a volume to be bound');
    default:
      return judged(Health.UNKNOWN, `claim phase is ${phase}`);
  }
}

/**
 * PersistentVolume by `status.phase`: `Bound` and `Available` → HEALTHY, `Released` (its claim was
 * deleted, the volume awaits reclaim) → HEALTHY with a note, `Pending` → PROGRESSING, `Failed` (automatic
 * reclaim failed) → DEGRADED.
 */
export function judgePersistentVolume(object: LiveObject): ResourceJudgement {
  const phase = textOf(field(object, 'status', 'phase')) ?? 'Pending';
  const message = textOf(field(object, 'status', 'message'));
  switch (phase) {
    case 'Bound':
    case 'Available':
      return judged(Health.HEALTHY, `volume is ${phase.toLowerCase()}`);
    case 'Released':
      return judged(Health.HEALTHY, 'volume is released: its claim was deleted');
    case 'Pending':
      return judged(Health.PROGRESSING, 'volume is pending');
    case 'Failed':
      return judged(Health.DEGRADED, `volume reclaim failed${message === undefined ? '' : `: ${message}`}`);
    default:
      return judged(Health.UNKNOWN, `volume phase is ${phase}`);
  }
}
