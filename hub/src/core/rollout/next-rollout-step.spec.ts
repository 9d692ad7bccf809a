import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextRolloutStep, type ClusterStatus } from './next-rollout-step';
import { planWaves, type PlannedWave, type WavePlan } from './plan-waves';

const S = 1000;
const wave = (name: string, clusters: string[], extra: Partial<PlannedWave> = {}): PlannedWave => ({
  name,
  clusters,
  maxConcurrency: 1,
  maxFailures: 0,
  soakMs: 30 * S,
  progressDeadlineMs: 600 * S,
  approval: false,
  ...extra,
});
const plan = (waves: PlannedWave[], extra: Partial<WavePlan> = {}): WavePlan => ({ waves, offlineClusters: 'wait', offlineDeadlineMs: 600 * S, onFailure: 'pause', ...extra });
const pending = (cluster: string, online = true): ClusterStatus => ({ cluster, state: 'PENDING', online, lastSeenAt: online ? undefined : 0 });
const released = (cluster: string, at: number): ClusterStatus => ({ cluster, state: 'RELEASED', releasedAt: at, online: true });
const healthy = (cluster: string, since: number): ClusterStatus => ({ cluster, state: 'HEALTHY', releasedAt: 0, healthySince: since, online: true });
const failed = (cluster: string): ClusterStatus => ({ cluster, state: 'FAILED', releasedAt: 0, online: true });

const NOW = 1000 * S;
const twoWaves = plan([wave('eu', ['eu-1', 'eu-2'], { maxConcurrency: 2 }), wave('us', ['us-1', 'us-2'])]);

describe('nextRolloutStep', () => {
  it.each<{ name: string; plan: WavePlan; statuses: ClusterStatus[]; approved?: string[]; want: Partial<ReturnType<typeof nextRolloutStep>> }>([
    {
      name: 'a new rollout releases the first wave up to its concurrency',
      plan: twoWaves,
      statuses: [pending('eu-1'), pending('eu-2'), pending('us-1'), pending('us-2')],
      want: { release: ['eu-1', 'eu-2'], currentWave: 'eu', halted: false, done: false },
    },
    {
      name: 'a later wave does not start while an earlier cluster is still soaking',
      plan: twoWaves,
      statuses: [healthy('eu-1', NOW - 40 * S), healthy('eu-2', NOW - 10 * S), pending('us-1'), pending('us-2')],
      want: { release: [], currentWave: 'eu', recheckAfterMs: 20 * S },
    },
    {
      name: 'once every cluster of a wave has soaked, the next wave starts',
      plan: twoWaves,
      statuses: [healthy('eu-1', NOW - 40 * S), healthy('eu-2', NOW - 30 * S), pending('us-1'), pending('us-2')],
      want: { release: ['us-1'], currentWave: 'us' },
    },
    {
      name: 'a wave never has more clusters in flight than its concurrency',
      plan: twoWaves,
      statuses: [healthy('eu-1', 0), healthy('eu-2', 0), released('us-1', NOW - S), pending('us-2')],
      want: { release: [], currentWave: 'us', recheckAfterMs: 599 * S },
    },
    {
      name: 'a wave with 2 of 4 failed and maxFailures 1 halts',
      plan: plan([wave('eu', ['a', 'b', 'c', 'd'], { maxFailures: 1, maxConcurrency: 4 })]),
      statuses: [failed('a'), failed('b'), released('c', NOW), released('d', NOW)],
      want: { halted: true, release: [] },
    },
    {
      name: 'a failure within the budget lets the wave finish',
      plan: plan([wave('eu', ['a', 'b'], { maxFailures: 1, maxConcurrency: 2 }), wave('us', ['c'])]),
      statuses: [failed('a'), healthy('b', 0), pending('c')],
      want: { release: ['c'], currentWave: 'us', halted: false },
    },
    {
      name: 'a cluster past its progress deadline times out and counts as a failure',
      plan: twoWaves,
      statuses: [released('eu-1', NOW - 600 * S), healthy('eu-2', 0), pending('us-1'), pending('us-2')],
      want: { halted: true, timedOut: ['eu-1'] },
    },
    {
      name: 'a wave that needs approval waits for it before releasing anything',
      plan: plan([wave('eu', ['eu-1'], { approval: true })]),
      statuses: [pending('eu-1')],
      want: { awaitingApproval: true, release: [] },
    },
    {
      name: 'an approved wave releases',
      plan: plan([wave('eu', ['eu-1'], { approval: true })]),
      statuses: [pending('eu-1')],
      approved: ['eu'],
      want: { awaitingApproval: false, release: ['eu-1'] },
    },
    {
      name: 'with offline policy skip, an offline cluster is skipped and the next online one released',
      plan: plan([wave('eu', ['eu-1', 'eu-2'])], { offlineClusters: 'skip' }),
      statuses: [pending('eu-1', false), pending('eu-2')],
      want: { skip: ['eu-1'], release: ['eu-2'] },
    },
    {
      name: 'with offline policy wait, an offline cluster is waited for until its deadline',
      plan: plan([wave('eu', ['eu-1'])], { offlineClusters: 'wait', offlineDeadlineMs: 600 * S }),
      statuses: [{ cluster: 'eu-1', state: 'PENDING', online: false, lastSeenAt: NOW - 100 * S }],
      want: { skip: [], release: [], recheckAfterMs: 500 * S },
    },
    {
      name: 'with offline policy wait, an offline cluster past its deadline is skipped',
      plan: plan([wave('eu', ['eu-1'])], { offlineClusters: 'wait', offlineDeadlineMs: 600 * S }),
      statuses: [{ cluster: 'eu-1', state: 'PENDING', online: false, lastSeenAt: NOW - 700 * S }],
      want: { skip: ['eu-1'] },
    },
    {
      name: 'with offline policy block, an offline cluster holds the wave',
      plan: plan([wave('eu', ['eu-1'])], { offlineClusters: 'block' }),
      statuses: [{ cluster: 'eu-1', state: 'PENDING', online: false, lastSeenAt: 0 }],
      want: { skip: [], release: [], done: false },
    },
    {
      name: 'every wave soaked and healthy is done',
      plan: twoWaves,
      statuses: [healthy('eu-1', 0), healthy('eu-2', 0), healthy('us-1', 0), { cluster: 'us-2', state: 'SKIPPED', online: false }],
      want: { done: true, release: [] },
    },
  ])('$name', ({ plan: p, statuses, approved, want }) => {
    expect(nextRolloutStep(p, statuses, new Set(approved ?? []), NOW)).toMatchObject(want);
  });

  describe('properties', () => {
    const states = ['PENDING', 'RELEASED', 'HEALTHY', 'FAILED', 'SKIPPED'] as const;
    const arbitraryCase = fc
      .record({
        sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
        concurrency: fc.integer({ min: 1, max: 5 }),
        maxFailures: fc.integer({ min: 0, max: 2 }),
        seed: fc.array(fc.record({ state: fc.constantFrom(...states), age: fc.integer({ min: 0, max: 700 }), online: fc.boolean() }), { minLength: 20, maxLength: 20 }),
      })
      .map(({ sizes, concurrency, maxFailures, seed }) => {
        let i = 0;
        const waves = sizes.map((size, w) => wave(`w${w}`, Array.from({ length: size }, (_, k) => `c${w}-${k}`), { maxConcurrency: concurrency, maxFailures }));
        const statuses: ClusterStatus[] = waves.flatMap((wv) =>
          wv.clusters.map((cluster) => {
            const s = seed[i++ % seed.length]!;
            return {
              cluster,
              state: s.state,
              online: s.online,
              lastSeenAt: NOW - s.age * S,
              releasedAt: s.state === 'PENDING' ? undefined : NOW - s.age * S,
              healthySince: s.state === 'HEALTHY' ? NOW - s.age * S : undefined,
            };
          }),
        );
        return { plan: plan(waves), statuses };
      });

    it('never puts more clusters of a wave in flight than its concurrency', () => {
      fc.assert(
        fc.property(arbitraryCase, ({ plan: p, statuses }) => {
          const step = nextRolloutStep(p, statuses, new Set(), NOW);
          const current = p.waves.find((w) => w.name === step.currentWave);
          if (!current) return;
          const inFlight = statuses.filter((s) => current.clusters.includes(s.cluster) && s.state === 'RELEASED' && !step.timedOut.includes(s.cluster)).length;
          expect(inFlight + step.release.length).toBeLessThanOrEqual(Math.max(current.maxConcurrency, inFlight));
        }),
      );
    });

    it('never releases into a wave while an earlier wave is not done', () => {
      fc.assert(
        fc.property(arbitraryCase, ({ plan: p, statuses }) => {
          const step = nextRolloutStep(p, statuses, new Set(), NOW);
          const index = p.waves.findIndex((w) => w.name === step.currentWave);
          for (const cluster of step.release) expect(p.waves[index]!.clusters).toContain(cluster);
          for (const earlier of p.waves.slice(0, Math.max(index, 0))) {
            for (const cluster of earlier.clusters) {
              const s = statuses.find((x) => x.cluster === cluster)!;
              const soaked = s.state === 'HEALTHY' && NOW - s.healthySince! >= earlier.soakMs;
              expect(soaked || s.state === 'SKIPPED' || s.state === 'FAILED' || (s.state === 'RELEASED' && NOW - s.releasedAt! >= earlier.progressDeadlineMs)).toBe(true);
            }
          }
        }),
      );
    });

    it('never counts a wave done before soak has elapsed since the healthy report of the new revision', () => {
      fc.assert(
        fc.property(arbitraryCase, ({ plan: p, statuses }) => {
          const step = nextRolloutStep(p, statuses, new Set(), NOW);
          if (!step.done) return;
          for (const s of statuses) {
            if (s.state === 'HEALTHY') expect(NOW - s.healthySince!).toBeGreaterThanOrEqual(30 * S);
            expect(s.state === 'PENDING').toBe(false);
          }
        }),
      );
    });

    it('never releases an offline cluster, and never mutates its inputs', () => {
      fc.assert(
        fc.property(arbitraryCase, ({ plan: p, statuses }) => {
          const frozen = JSON.stringify({ p, statuses });
          const step = nextRolloutStep(p, statuses, new Set(), NOW);
          for (const cluster of step.release) expect(statuses.find((s) => s.cluster === cluster)!.online).toBe(true);
          expect(JSON.stringify({ p, statuses })).toBe(frozen);
          expect([...step.release].sort()).toEqual(step.release);
        }),
      );
    });
  });
});

describe('nextRolloutStep over planned canaries', () => {
  it('a byLabel canary with maxConcurrency 1 releases one cluster at a time', () => {
    const planned = planWaves({ byLabel: { label: 'region', canary: {}, maxConcurrency: 1 } }, ['eu', 'us', 'ap'].map((r) => ({ name: `${r}-1`, labels: { region: r } }))).plan!;
    const first = nextRolloutStep(planned, [pending('ap-1'), pending('eu-1'), pending('us-1')], new Set(), NOW);
    expect(first).toMatchObject({ currentWave: 'canary', release: ['ap-1'] });
    const second = nextRolloutStep(planned, [released('ap-1', NOW), pending('eu-1'), pending('us-1')], new Set(), NOW);
    expect(second.release).toEqual([]);
  });

  it('the default canary releases the connected cluster of a region at once instead of waiting for an offline one', () => {
    const clusters = [
      { name: 'eu-1', labels: { region: 'eu' }, online: false },
      { name: 'eu-2', labels: { region: 'eu' }, online: true },
    ];
    const planned = planWaves(undefined, clusters).plan!;
    const step = nextRolloutStep(planned, [pending('eu-1', false), pending('eu-2')], new Set(), NOW);
    expect(step).toMatchObject({ currentWave: 'canary', release: ['eu-2'], skip: [] });
  });

  it('a remaining wave after a gated wave does not wait for approval', () => {
    const planned = planWaves({ waves: [{ name: 'eu', selector: { matchLabels: { region: 'eu' } }, approval: true, soak: '0s' }] }, [
      { name: 'eu-1', labels: { region: 'eu' } },
      { name: 'us-1', labels: { region: 'us' } },
    ]).plan!;
    const step = nextRolloutStep(planned, [healthy('eu-1', NOW - S), pending('us-1')], new Set(['eu']), NOW);
    expect(step).toMatchObject({ currentWave: 'remaining', awaitingApproval: false, release: ['us-1'] });
  });
});
