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

describe('planWaves: canaries, concurrency and the implicit wave', () => {
  const regions: PlanCluster[] = [
    { name: 'eu-1', labels: { region: 'eu' }, online: false },
    { name: 'eu-2', labels: { region: 'eu' }, online: true },
    { name: 'eu-3', labels: { region: 'eu' }, online: true },
    { name: 'us-1', labels: { region: 'us' }, online: false },
    { name: 'us-2', labels: { region: 'us' }, online: false },
    { name: 'ap-1', labels: { region: 'ap' } },
  ];

  it.each<{ name: string; strategy: RolloutStrategy | undefined; want: [string, string[]][] }>([
    {
      name: 'the default canary takes a connected cluster of each region, and a region with none connected gives no canary',
      strategy: undefined,
      want: [
        ['canary', ['ap-1', 'eu-2']],
        ['eu', ['eu-1', 'eu-3']],
        ['us', ['us-1', 'us-2']],
      ],
    },
    {
      name: 'a canary of two per group takes the connected ones first, by name',
      strategy: { byLabel: { label: 'region', canary: { perGroup: 2 } } },
      want: [
        ['canary', ['ap-1', 'eu-2', 'eu-3']],
        ['eu', ['eu-1']],
        ['us', ['us-1', 'us-2']],
      ],
    },
  ])('$name', ({ strategy, want }) => {
    expect(waveNames(strategy, regions)).toEqual(want);
  });

  it('a cluster whose connectivity is not given counts as connected (the canary is then the first by name)', () => {
    expect(waveNames(undefined, [{ name: 'b', labels: { region: 'x' } }, { name: 'a', labels: { region: 'x' } }])).toEqual([
      ['canary', ['a']],
      ['x', ['b']],
    ]);
  });

  it.each<{ name: string; strategy: RolloutStrategy | undefined; want: number }>([
    { name: 'byLabel maxConcurrency 1 holds for the canary wave too', strategy: { byLabel: { label: 'region', canary: {}, maxConcurrency: 1 } }, want: 1 },
    { name: 'a canary maxConcurrency overrides the one of byLabel', strategy: { byLabel: { label: 'region', canary: { maxConcurrency: '100%' }, maxConcurrency: 1 } }, want: 3 },
    { name: 'a canary without any maxConcurrency gets the wave default of 25 %', strategy: { byLabel: { label: 'region', canary: {} } }, want: 1 },
    { name: 'the default strategy releases its canary wave at once', strategy: undefined, want: 3 },
  ])('$name', ({ strategy, want }) => {
    const clusters: PlanCluster[] = ['a', 'b', 'c'].map((r) => ({ name: `${r}-1`, labels: { region: r } }));
    const canary = planWaves(strategy, clusters).plan!.waves.find((w) => w.name === 'canary')!;
    expect(canary.clusters).toHaveLength(3);
    expect(canary.maxConcurrency).toBe(want);
  });

  it('the implicit remaining wave takes the limits of the last wave but not its approval gate', () => {
    const plan = planWaves(
      { waves: [{ name: 'eu', selector: { matchLabels: { region: 'eu' } }, approval: true, maxConcurrency: 1, soak: '5m', maxFailures: 2 }] },
      fleet,
    ).plan!;
    expect(plan.waves.map((w) => w.name)).toEqual(['eu', 'remaining']);
    expect(plan.waves[0]!.approval).toBe(true);
    expect(plan.waves[1]).toMatchObject({ approval: false, maxConcurrency: 1, soakMs: 300_000, maxFailures: 2 });
  });

  it('a final wave without a selector gates the rest when asked to, and leaves no remaining wave', () => {
    const plan = planWaves({ waves: [{ name: 'eu', selector: { matchLabels: { region: 'eu' } } }, { name: 'rest', approval: true }] }, fleet).plan!;
    expect(plan.waves.map((w) => [w.name, w.approval])).toEqual([
      ['eu', false],
      ['rest', true],
    ]);
  });

  it('onFailure fail is planned as given; no onFailure means pause', () => {
    expect(planWaves({ onFailure: 'fail' }, fleet).plan!.onFailure).toBe('fail');
    expect(planWaves({ trigger: 'auto' }, fleet).plan!.onFailure).toBe('pause');
  });

  it('does not change the clusters it is given', () => {
    const clusters: PlanCluster[] = [{ name: 'b', labels: { region: 'x' }, online: false }, { name: 'a', labels: { region: 'x' }, online: true }];
    const copy = structuredClone(clusters);
    planWaves(undefined, clusters);
    expect(clusters).toEqual(copy);
  });
});
