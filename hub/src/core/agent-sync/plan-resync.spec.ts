import { describe, expect, it } from 'vitest';
import { MAX_GENERATION } from './check-agent-message';
import { planResync, type HeldApp, type ReleasedApp, type ResyncPlan } from './plan-resync';

const r = (appName: string, revision: string | null, generation: number | bigint): ReleasedApp => ({ appName, revision, generation: BigInt(generation) });
const h = (appName: string, revision: string, generation: number | bigint): HeldApp => ({ appName, revision, generation: BigInt(generation) });
const plan = (overrides: Partial<ResyncPlan>): ResyncPlan => ({ send: [], remove: [], removeUnknown: [], ignored: [], forget: [], ...overrides });

/** The highest generation the hub issued in most cases below. */
const ISSUED = 100n;

describe('planResync', () => {
  it.each<{ name: string; released: ReleasedApp[]; held: HeldApp[]; issued?: bigint; want: ResyncPlan }>([
    { name: 'an agent that holds exactly what was released gets nothing', released: [r('a', 'x', 3)], held: [h('a', 'x', 3)], want: plan({}) },
    { name: 'an agent that lacks an App gets it', released: [r('a', 'x', 3)], held: [], want: plan({ send: ['a'] }) },
    { name: 'an agent that holds another revision gets the released one', released: [r('a', 'y', 4)], held: [h('a', 'x', 3)], want: plan({ send: ['a'] }) },
    { name: 'an agent that holds an older generation of the same revision gets it again', released: [r('a', 'x', 5)], held: [h('a', 'x', 3)], want: plan({ send: ['a'] }) },
    {
      name: 'an agent that claims a newer generation than the hub released is sent the release again (the hub claims nothing else)',
      released: [r('a', 'x', 5)],
      held: [h('a', 'x', MAX_GENERATION - 1n)],
      want: plan({ send: ['a'] }),
    },
    {
      name: 'an agent that holds a foreign revision at a huge generation is sent the release again, once',
      released: [r('a', 'x', 5)],
      held: [h('a', 'f'.repeat(64), 2n ** 64n - 1n), h('a', 'x', 5)],
      want: plan({ send: ['a'] }),
    },
    {
      name: 'an App the hub never released is removed one generation above what the agent holds',
      released: [],
      held: [h('stray', 'x', 1)],
      want: plan({ removeUnknown: [{ appName: 'stray', generation: 2n }] }),
    },
    {
      name: 'an App released to another cluster only is unknown here and removed the same way',
      released: [r('mine', 'x', 7)],
      held: [h('mine', 'x', 7), h('theirs', 'y', 42)],
      want: plan({ removeUnknown: [{ appName: 'theirs', generation: 43n }] }),
    },
    {
      name: 'an unknown App at the newest generation the hub issued is left alone until the hub issues a newer one',
      released: [],
      held: [h('stray', 'x', ISSUED)],
      want: plan({ ignored: [{ appName: 'stray', reason: 'generation is the newest the hub issued; removed once a newer one is issued' }] }),
    },
    {
      name: 'an unknown App at a generation the hub never issued (2^63 - 2) is removed at 2^63 - 1, allocating nothing',
      released: [],
      held: [h('ghost', 'x', MAX_GENERATION - 1n)],
      want: plan({ removeUnknown: [{ appName: 'ghost', generation: MAX_GENERATION }] }),
    },
    {
      name: 'an unknown App held by the agent of a hub that issued nothing yet is removed at + 1',
      released: [],
      held: [h('ghost', 'x', 1)],
      issued: 0n,
      want: plan({ removeUnknown: [{ appName: 'ghost', generation: 2n }] }),
    },
    {
      name: 'an unknown App at 2^63 - 1 or above cannot be out-numbered and is ignored',
      released: [],
      held: [h('max', 'x', MAX_GENERATION), h('wire-max', 'x', 2n ** 64n - 1n)],
      want: plan({
        ignored: [
          { appName: 'max', reason: 'generation beyond any the hub can issue' },
          { appName: 'wire-max', reason: 'generation beyond any the hub can issue' },
        ],
      }),
    },
    {
      name: 'an App name no agent may hold is ignored',
      released: [],
      held: [h('', 'x', 1), h('n'.repeat(254), 'x', 1)],
      want: plan({
        ignored: [
          { appName: '', reason: 'not an App name an agent may hold' },
          { appName: 'n'.repeat(254), reason: 'not an App name an agent may hold' },
        ],
      }),
    },
    {
      name: 'an unknown App listed twice is answered once, from its first entry',
      released: [],
      held: [h('stray', 'x', 3), h('stray', 'y', 9)],
      want: plan({ removeUnknown: [{ appName: 'stray', generation: 4n }] }),
    },
    {
      name: 'a released removal is sent to an agent that still holds the App',
      released: [r('a', null, 9)],
      held: [h('a', 'x', 3)],
      want: plan({ remove: [{ appName: 'a', generation: 9n }] }),
    },
    { name: 'a released removal the agent no longer holds is forgotten', released: [r('a', null, 9)], held: [], want: plan({ forget: ['a'] }) },
    {
      name: 'output is sorted by App name',
      released: [r('c', 'x', 1), r('a', 'x', 1), r('b', 'x', 1)],
      held: [h('z', 'x', 1), h('y', 'x', 1)],
      want: plan({
        send: ['a', 'b', 'c'],
        removeUnknown: [
          { appName: 'y', generation: 2n },
          { appName: 'z', generation: 2n },
        ],
      }),
    },
  ])('$name', ({ released, held, issued, want }) => {
    expect(planResync(released, held, issued ?? ISSUED)).toEqual(want);
  });

  it('a removal of an unknown App is one above what the agent holds, at most the highest issued unless that was never issued, and within bigint', () => {
    const held = [0n, 1n, 50n, ISSUED - 1n, ISSUED, ISSUED + 1n, MAX_GENERATION - 1n, MAX_GENERATION, 2n ** 64n - 1n].map((g, i) => h(`app-${i}`, 'x', g));
    const { removeUnknown } = planResync([], held, ISSUED);
    const heldBy = new Map(held.map((x) => [x.appName, x.generation]));
    for (const removal of removeUnknown) {
      const mine = heldBy.get(removal.appName)!;
      expect(removal.generation).toBe(mine + 1n);
      expect(removal.generation <= ISSUED || mine > ISSUED).toBe(true);
      expect(removal.generation <= MAX_GENERATION).toBe(true);
    }
  });

  it('does not modify its inputs', () => {
    const released = Object.freeze([Object.freeze(r('b', 'x', 1)), Object.freeze(r('a', 'x', 1))]);
    const held = Object.freeze([Object.freeze(h('z', 'q', 1))]);
    expect(() => planResync(released, held, ISSUED)).not.toThrow();
    expect(released.map((a) => a.appName)).toEqual(['b', 'a']);
  });
});
