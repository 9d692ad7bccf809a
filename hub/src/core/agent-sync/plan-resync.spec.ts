import { describe, expect, it } from 'vitest';
import { planResync, type HeldApp, type ReleasedApp, type ResyncPlan } from './plan-resync';

const r = (appName: string, revision: string | null, generation: number): ReleasedApp => ({ appName, revision, generation: BigInt(generation) });
const h = (appName: string, revision: string, generation: number): HeldApp => ({ appName, revision, generation: BigInt(generation) });

describe('planResync', () => {
  it.each<{ name: string; released: ReleasedApp[]; held: HeldApp[]; want: ResyncPlan }>([
    { name: 'an agent that holds exactly what was released gets nothing', released: [r('a', 'x', 3)], held: [h('a', 'x', 3)], want: { send: [], remove: [], forget: [] } },
    { name: 'an agent that lacks an App gets it', released: [r('a', 'x', 3)], held: [], want: { send: ['a'], remove: [], forget: [] } },
    { name: 'an agent that holds another revision gets the released one', released: [r('a', 'y', 4)], held: [h('a', 'x', 3)], want: { send: ['a'], remove: [], forget: [] } },
    { name: 'an agent that holds an older generation of the same revision gets it again', released: [r('a', 'x', 5)], held: [h('a', 'x', 3)], want: { send: ['a'], remove: [], forget: [] } },
    {
      name: 'an App the hub never released is removed with a generation still to allocate',
      released: [],
      held: [h('stray', 'x', 1)],
      want: { send: [], remove: [{ appName: 'stray', generation: null }], forget: [] },
    },
    {
      name: 'a released removal is sent to an agent that still holds the App',
      released: [r('a', null, 9)],
      held: [h('a', 'x', 3)],
      want: { send: [], remove: [{ appName: 'a', generation: 9n }], forget: [] },
    },
    { name: 'a released removal the agent no longer holds is forgotten', released: [r('a', null, 9)], held: [], want: { send: [], remove: [], forget: ['a'] } },
    {
      name: 'output is sorted by App name',
      released: [r('c', 'x', 1), r('a', 'x', 1), r('b', 'x', 1)],
      held: [],
      want: { send: ['a', 'b', 'c'], remove: [], forget: [] },
    },
  ])('$name', ({ released, held, want }) => {
    expect(planResync(released, held)).toEqual(want);
  });

  it('does not modify its inputs', () => {
    const released = Object.freeze([r('b', 'x', 1), r('a', 'x', 1)]);
    const held = Object.freeze([h('z', 'q', 1)]);
    expect(() => planResync(released, held)).not.toThrow();
  });
});
