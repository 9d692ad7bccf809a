import { describe, expect, it } from 'vitest';
import { parseDuration, resolveCount } from './duration';
import { planWaves, type PlanCluster } from './plan-waves';
import type { RolloutStrategy } from './strategy';

const fleet: PlanCluster[] = [
  { name: 'us-2', labels: { region: 'us', env: 'prod' } },
  { name: 'us-1', labels: { region: 'us', env: 'prod' } },
  { name: 'eu-1', labels: { region: 'eu', env: 'prod' } },
  { name: 'eu-2', labels: { region: 'eu', env: 'prod' } },
  { name: 'ap-1', labels: { region: 'ap', env: 'staging' } },
  { name: 'lab-1', labels: { env: 'dev' } },
];

const waveNames = (strategy: RolloutStrategy | undefined, clusters = fleet) => planWaves(strategy, clusters).plan!.waves.map((w) => [w.name, w.clusters]);

describe('planWaves', () => {
  it.each<{ name: string; strategy: RolloutStrategy | undefined; want: [string, string[]][] }>([
    {
      name: 'no strategy: a canary of one cluster per region, then one wave per region sorted, unlabeled clusters last',
      strategy: undefined,
      want: [
        ['canary', ['ap-1', 'eu-1', 'lab-1', 'us-1']],
        ['eu', ['eu-2']],
        ['us', ['us-2']],
      ],
    },
    {
      name: 'byLabel with an order puts the named values first',
      strategy: { byLabel: { label: 'region', order: ['us', 'eu'] } },
      want: [
        ['us', ['us-1', 'us-2']],
        ['eu', ['eu-1', 'eu-2']],
        ['ap', ['ap-1']],
        ['no-region', ['lab-1']],
      ],
    },
    {
      name: 'explicit waves take each cluster in the first wave that selects it',
      strategy: {
        waves: [
          { name: 'staging', selector: { matchLabels: { env: 'staging' } } },
          { name: 'prod-eu', selector: { matchLabels: { region: 'eu' } } },
          { name: 'prod', selector: { matchLabels: { env: 'prod' } } },
        ],
      },
      want: [
        ['staging', ['ap-1']],
        ['prod-eu', ['eu-1', 'eu-2']],
        ['prod', ['us-1', 'us-2']],
        ['remaining', ['lab-1']],
      ],
    },
    {
      name: 'a wave that selects nobody is dropped',
      strategy: { waves: [{ name: 'mars', selector: { matchLabels: { region: 'mars' } } }, { name: 'all' }] },
      want: [['all', ['ap-1', 'eu-1', 'eu-2', 'lab-1', 'us-1', 'us-2']]],
    },
  ])('$name', ({ strategy, want }) => {
    expect(waveNames(strategy)).toEqual(want);
  });

  it('resolves percentages against the wave size, rounding concurrency up and never below one', () => {
    const plan = planWaves({ waves: [{ name: 'all', maxConcurrency: '10%', maxFailures: '50%', soak: '1m', progressDeadline: '5m' }] }, fleet).plan!;
    expect(plan.waves[0]).toMatchObject({ maxConcurrency: 1, maxFailures: 3, soakMs: 60_000, progressDeadlineMs: 300_000 });
  });

  it.each<{ name: string; strategy: RolloutStrategy; path: string }>([
    { name: 'a bad percentage is refused with its path', strategy: { waves: [{ name: 'a', maxConcurrency: '250%' }] }, path: 'spec.strategy.waves[0].maxConcurrency' },
    { name: 'a bad duration is refused with its path', strategy: { waves: [{ name: 'a', soak: 'soon' }] }, path: 'spec.strategy.waves[0].soak' },
    { name: 'a zero progress deadline is refused', strategy: { byLabel: { label: 'region', progressDeadline: '0s' } }, path: 'spec.strategy.byLabel.progressDeadline' },
    { name: 'two waves of one name are refused', strategy: { waves: [{ name: 'a' }, { name: 'a' }] }, path: 'spec.strategy.waves[1]' },
    { name: 'waves and byLabel together are refused', strategy: { waves: [{ name: 'a' }], byLabel: { label: 'region' } }, path: 'spec.strategy' },
  ])('$name', ({ strategy, path }) => {
    const result = planWaves(strategy, fleet);
    expect(result.plan).toBeUndefined();
    expect(result.issues.map((i) => i.path)).toContain(path);
  });

  it('every cluster lands in exactly one wave, whatever the strategy', () => {
    for (const strategy of [undefined, { byLabel: { label: 'env', canary: { perGroup: 2 } } }, { waves: [{ name: 'eu', selector: { matchLabels: { region: 'eu' } } }] }]) {
      const all = planWaves(strategy, fleet).plan!.waves.flatMap((w) => w.clusters);
      expect(all.sort()).toEqual(fleet.map((c) => c.name).sort());
    }
  });
});

describe('parseDuration and resolveCount', () => {
  it.each([
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['0s', 0],
    ['5', undefined],
    ['-1s', undefined],
    ['1d', undefined],
  ])('%s is %s ms', (text, want) => {
    expect(parseDuration(text)).toBe(want);
  });

  it.each<[number | string, number, number, number | undefined]>([
    ['25%', 10, 1, 3],
    ['0%', 10, 1, 1],
    ['0%', 10, 0, 0],
    [2, 10, 1, 2],
    [1.5, 10, 1, undefined],
    ['x%', 10, 1, undefined],
  ])('%s of %s (min %s) is %s', (value, size, min, want) => {
    expect(resolveCount(value, size, min)).toBe(want);
  });
});
