import { describe, expect, it } from 'vitest';
import { CapabilityRestaging } from './cluster-capabilities.service';

/** A restageAll whose runs finish when the test says so. */
function controlledRestage() {
  const pending: (() => void)[] = [];
  let runs = 0;
  return {
    appSets: {
      restageAll: () => {
        runs++;
        return new Promise<void>((resolve) => pending.push(resolve));
      },
    },
    runs: () => runs,
    finishOne: async () => {
      pending.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('re-staging after a capabilities change', () => {
  it.each([
    { requests: 1, runs: 1 },
    { requests: 2, runs: 2 },
    { requests: 50, runs: 2 },
  ])('$requests requests arriving during one run cost $runs runs', async ({ requests, runs }) => {
    const restage = controlledRestage();
    const restaging = new CapabilityRestaging(restage.appSets);
    for (let i = 0; i < requests; i++) restaging.request();
    for (let i = 0; i < requests; i++) await restage.finishOne();
    await restaging.idle();
    expect(restage.runs()).toBe(runs);
  });

  it('runs again for a request after the previous run finished', async () => {
    const restage = controlledRestage();
    const restaging = new CapabilityRestaging(restage.appSets);
    restaging.request();
    await restage.finishOne();
    await restaging.idle();
    restaging.request();
    await restage.finishOne();
    await restaging.idle();
    expect(restage.runs()).toBe(2);
  });

  it('keeps going after a failed run', async () => {
    let runs = 0;
    const restaging = new CapabilityRestaging({
      restageAll: async () => {
        runs++;
        if (runs === 1) throw new Error('database gone');
      },
    });
    restaging.request();
    await restaging.idle();
    restaging.request();
    await restaging.idle();
    expect(runs).toBe(2);
  });
});
