import { Health } from '@flotilla/proto';
import { count, describeCondition, judged, type ResourceJudgement } from './judgement.js';
import { conditionOf, field, listOf, numberOf, textOf, type LiveObject } from './read.js';

/**
 * Pod health, after Argo CD:
 * - `Succeeded` → HEALTHY; `Failed` → DEGRADED with the pod's or the failed container's reason.
 * - A container (init containers included) waiting for a failing reason (`CrashLoopBackOff`,
 *   `ImagePullBackOff`, `ErrImagePull`, `CreateContainerConfigError`, ... i.e. `Err*`, `*Error`,
 *   `*BackOff`) → DEGRADED, whatever the phase. Argo CD limits this to `restartPolicy: Always` because its
 *   sync hooks are pods; Flotilla has no hook pods, and a pod that cannot pull its image never finishes
 *   whatever its restart policy.
 * - `Pending` → PROGRESSING, saying why (unschedulable, creating containers...).
 * - `Running` with `restartPolicy: Always` (the default): ready → HEALTHY; not ready after a container
 *   restarted → DEGRADED; not ready yet → PROGRESSING. With `OnFailure` or `Never` the pod runs to
 *   completion, so running is PROGRESSING, never HEALTHY.
 * - Any other phase → UNKNOWN.
 */
export function judgePod(object: LiveObject): ResourceJudgement {
  const phase = textOf(field(object, 'status', 'phase')) ?? 'Pending';
  const podMessage = textOf(field(object, 'status', 'message'));
  const podReason = textOf(field(object, 'status', 'reason'));
  const initContainers = containerStatuses(object, 'initContainerStatuses');
  const containers = containerStatuses(object, 'containerStatuses');

  if (phase === 'Succeeded') return judged(Health.HEALTHY, 'Pod completed');
  if (phase === 'Failed') {
    const why = podMessage ?? [...initContainers, ...containers].map(failureOf).find((message) => message !== undefined) ?? podReason ?? 'no reason given';
    return judged(Health.DEGRADED, `Pod failed: ${why}`);
  }
  const failing = [...initContainers, ...containers].filter((container) => isFailingReason(container.waitingReason));
  if (failing.length > 0) {
    return judged(Health.DEGRADED, failing.map((container) => `container ${container.name}: ${[container.waitingReason, container.waitingMessage].filter(Boolean).join(': ')}`).join('; '));
  }
  if (phase === 'Pending') {
    const scheduled = conditionOf(object, 'PodScheduled');
    if (scheduled?.status === 'False') return judged(Health.PROGRESSING, `Pod not scheduled: ${describeCondition(scheduled, 'waiting for a node')}`);
    const waiting = [...initContainers, ...containers].find((container) => container.waitingReason !== undefined);
    return judged(Health.PROGRESSING, `Pod pending: ${podMessage ?? waiting?.waitingReason ?? 'waiting to start'}`);
  }
  if (phase === 'Running') {
    const restartPolicy = textOf(field(object, 'spec', 'restartPolicy')) ?? 'Always';
    if (restartPolicy !== 'Always') return judged(Health.PROGRESSING, `Pod running to completion (restartPolicy ${restartPolicy})`);
    if (conditionOf(object, 'Ready')?.status === 'True') return judged(Health.HEALTHY, `Pod running, ${containers.length}/${containers.length} containers ready`);
    const notReady = containers.filter((container) => !container.ready);
    const restarted = notReady.find((container) => container.lastTermination !== undefined);
    if (restarted !== undefined) {
      return judged(
        Health.DEGRADED,
        `container ${restarted.name} restarted ${count(restarted.restartCount, 'time')} and is not ready (last exit: ${restarted.lastTermination})`,
      );
    }
    return judged(Health.PROGRESSING, `waiting for containers to be ready: ${notReady.map((container) => container.name).join(', ') || 'pod readiness gates'}`);
  }
  return judged(Health.UNKNOWN, `Pod phase is ${phase}${podMessage === undefined ? '' : `: ${podMessage}`}`);
}

interface ContainerStatus {
  readonly name: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly waitingReason: string | undefined;
  readonly waitingMessage: string | undefined;
  /** The current state if terminated: `reason`, `message`, `exitCode`. */
  readonly terminated: unknown;
  /** `reason, code N` of the previous run, when the container has restarted. */
  readonly lastTermination: string | undefined;
}

function containerStatuses(object: LiveObject, list: 'initContainerStatuses' | 'containerStatuses'): ContainerStatus[] {
  return listOf(field(object, 'status', list)).map((entry) => {
    const last = field(entry, 'lastState', 'terminated');
    return {
      name: textOf(field(entry, 'name')) ?? '?',
      ready: field(entry, 'ready') === true,
      restartCount: numberOf(field(entry, 'restartCount')) ?? 0,
      waitingReason: textOf(field(entry, 'state', 'waiting', 'reason')),
      waitingMessage: textOf(field(entry, 'state', 'waiting', 'message')),
      terminated: field(entry, 'state', 'terminated'),
      lastTermination: last === undefined ? undefined : `${textOf(field(last, 'reason')) ?? 'terminated'}, code ${numberOf(field(last, 'exitCode')) ?? '?'}`,
    };
  });
}

// The kubelet's failing waiting reasons share these shapes: ErrImagePull, ErrImageNeverPull,
// CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError, RunContainerError, InvalidImageName.
function isFailingReason(reason: string | undefined): boolean {
  return reason !== undefined && (reason.startsWith('Err') || reason.endsWith('Error') || reason.endsWith('BackOff') || reason === 'InvalidImageName');
}

function failureOf(container: ContainerStatus): string | undefined {
  const terminated = container.terminated;
  if (terminated === undefined) return undefined;
  const message = textOf(field(terminated, 'message'));
  const reason = textOf(field(terminated, 'reason'));
  const exitCode = numberOf(field(terminated, 'exitCode')) ?? 0;
  if (message !== undefined) return `container ${container.name}: ${message}`;
  if (reason === 'OOMKilled') return `container ${container.name} was OOMKilled`;
  if (exitCode !== 0) return `container ${container.name} exited with code ${exitCode}${reason === undefined ? '' : ` (${reason})`}`;
  return undefined;
}
