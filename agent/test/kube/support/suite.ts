import { afterAll, beforeAll, describe } from 'vitest';
import { REAL_CLUSTER_SKIPPED, startRealClusterTarget, startTestServerTarget, type KubeTarget } from './targets.js';

/** One target of a parameterised suite. */
export interface TargetCase {
  readonly name: string;
  readonly start: () => Promise<KubeTarget>;
  /** Unset on a real cluster when `KUBECONFIG` is missing: the describe is registered as skipped. */
  readonly available: boolean;
  /** Timeout of waits that depend on real controllers (pods starting on a real cluster take longer). */
  readonly settleMs: number;
}

const kubeconfig = process.env['KUBECONFIG'];

/** The targets every shared suite runs against: the in-process server always, a real cluster when configured. */
export const TARGETS: readonly TargetCase[] = [
  { name: 'the Kubernetes API test server', start: startTestServerTarget, available: true, settleMs: 8_000 },
  kubeconfig !== undefined && kubeconfig !== ''
    ? { name: `a real cluster (KUBECONFIG=${kubeconfig})`, start: () => startRealClusterTarget(kubeconfig), available: true, settleMs: 120_000 }
    : { name: REAL_CLUSTER_SKIPPED, start: () => Promise.reject(new Error('KUBECONFIG is not set')), available: false, settleMs: 0 },
];

/** Registers `body` once per target, skipped (with the reason in its name) when the target is unavailable. */
export function describeForTargets(title: string, body: (target: () => KubeTarget, settings: TargetCase) => void): void {
  for (const settings of TARGETS) {
    describe.skipIf(!settings.available)(`${title} on ${settings.name}`, () => {
      let current: KubeTarget | undefined;
      const target = (): KubeTarget => {
        if (current === undefined) throw new Error('target not started');
        return current;
      };
      // Registered before the body's hooks: the target starts first and, after hooks running in
      // reverse, closes last.
      beforeAll(async () => {
        current = await settings.start();
      }, 30_000);
      afterAll(async () => {
        await current?.close();
      }, 60_000);
      body(target, settings);
    });
  }
}
