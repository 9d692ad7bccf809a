import { describe, expect, it } from 'vitest';
import { CoalescingQueue } from './coalescing-queue.js';

type Step = { offer: [string, string] } | { take: true } | { complete: string };

/** Runs `steps` against a queue of `maxKeys`, returning every offer outcome and every item taken. */
function run(maxKeys: number, steps: Step[]): string[] {
  const queue = new CoalescingQueue<string>(maxKeys);
  const log: string[] = [];
  for (const step of steps) {
    if ('offer' in step) log.push(`${step.offer[0]}:${queue.offer(...step.offer)}`);
    else if ('take' in step) log.push(`took ${queue.take()?.item ?? 'nothing'}`);
    else queue.complete(step.complete);
  }
  return log;
}

describe('CoalescingQueue', () => {
  it.each([
    {
      name: 'keys are served in the order they were first queued',
      maxKeys: 10,
      steps: [{ offer: ['a', 'a1'] }, { offer: ['b', 'b1'] }, { take: true }, { take: true }, { take: true }] as Step[],
      want: ['a:queued', 'b:queued', 'took a1', 'took b1', 'took nothing'],
    },
    {
      name: 'the newest item for a key replaces the queued one and keeps its turn',
      maxKeys: 10,
      steps: [{ offer: ['a', 'a1'] }, { offer: ['b', 'b1'] }, { offer: ['a', 'a2'] }, { take: true }, { take: true }] as Step[],
      want: ['a:queued', 'b:queued', 'a:replaced', 'took a2', 'took b1'],
    },
    {
      name: 'a key in flight is not handed out again until completed',
      maxKeys: 10,
      steps: [{ offer: ['a', 'a1'] }, { take: true }, { offer: ['a', 'a2'] }, { take: true }, { complete: 'a' }, { take: true }] as Step[],
      want: ['a:queued', 'took a1', 'a:queued', 'took nothing', 'took a2'],
    },
    {
      name: 'a key in flight does not hold up other keys',
      maxKeys: 10,
      steps: [{ offer: ['a', 'a1'] }, { take: true }, { offer: ['a', 'a2'] }, { offer: ['b', 'b1'] }, { take: true }] as Step[],
      want: ['a:queued', 'took a1', 'a:queued', 'b:queued', 'took b1'],
    },
    {
      name: 'a new key beyond the bound is refused, never dropping the oldest',
      maxKeys: 2,
      steps: [{ offer: ['a', 'a1'] }, { offer: ['b', 'b1'] }, { offer: ['c', 'c1'] }, { take: true }, { take: true }, { take: true }] as Step[],
      want: ['a:queued', 'b:queued', 'c:refused', 'took a1', 'took b1', 'took nothing'],
    },
    {
      name: 'a full queue still accepts a newer item for a queued key',
      maxKeys: 1,
      steps: [{ offer: ['a', 'a1'] }, { offer: ['a', 'a2'] }, { take: true }] as Step[],
      want: ['a:queued', 'a:replaced', 'took a2'],
    },
    {
      name: 'taking frees room for another key',
      maxKeys: 1,
      steps: [{ offer: ['a', 'a1'] }, { take: true }, { offer: ['b', 'b1'] }] as Step[],
      want: ['a:queued', 'took a1', 'b:queued'],
    },
  ])('$name', ({ maxKeys, steps, want }) => {
    expect(run(maxKeys, steps)).toEqual(want);
  });

  it('reports room, pending and in-flight counts', () => {
    const queue = new CoalescingQueue<number>(1);
    queue.offer('a', 1);
    expect([queue.hasRoomFor('a'), queue.hasRoomFor('b'), queue.isPending('a')]).toEqual([true, false, true]);
    queue.take();
    expect([queue.pendingCount, queue.inFlightCount]).toEqual([0, 1]);
    queue.complete('a');
    expect(queue.inFlightCount).toBe(0);
  });

  it('clear drops waiting items and says how many', () => {
    const queue = new CoalescingQueue<number>(5);
    queue.offer('a', 1);
    queue.offer('b', 2);
    expect(queue.clear()).toBe(2);
    expect(queue.take()).toBeUndefined();
  });

  it.each([
    { name: 'a bound of zero is refused', maxKeys: 0 },
    { name: 'a fractional bound is refused', maxKeys: 1.5 },
  ])('$name', ({ maxKeys }) => {
    expect(() => new CoalescingQueue(maxKeys)).toThrow(RangeError);
  });
});
