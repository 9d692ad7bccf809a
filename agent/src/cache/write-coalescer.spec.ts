import { describe, expect, it } from 'vitest';
import { WriteCoalescer } from './write-coalescer.js';

/** A write whose completion the test controls; records the state it snapshotted. */
function controlledWrites(state: { value: number }) {
  const written: number[] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const coalescer = new WriteCoalescer(() => {
    const snapshot = state.value;
    return new Promise<void>((resolve, reject) => pending.push({ resolve: () => (written.push(snapshot), resolve()), reject }));
  });
  return { coalescer, written, pending };
}
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteCoalescer', () => {
  it.each([
    { flushesWhileWriting: 1, writes: 2 },
    { flushesWhileWriting: 10, writes: 2 },
  ])('costs $writes writes when $flushesWhileWriting flushes arrive while one write runs, and the last write holds the last change', async ({ flushesWhileWriting, writes }) => {
    const state = { value: 0 };
    const { coalescer, written, pending } = controlledWrites(state);
    const first = coalescer.flush();
    const later: Promise<void>[] = [];
    for (let i = 1; i <= flushesWhileWriting; i += 1) {
      state.value = i;
      later.push(coalescer.flush());
    }
    pending.shift()?.resolve();
    await first;
    await settle();
    pending.shift()?.resolve();
    await Promise.all(later);
    expect(written).toHaveLength(writes);
    expect(written.at(-1)).toBe(flushesWhileWriting);
  });

  it('writes again after a failed write, and the failure reaches only the callers of that write', async () => {
    const state = { value: 1 };
    const { coalescer, written, pending } = controlledWrites(state);
    const failed = coalescer.flush();
    state.value = 2;
    const next = coalescer.flush();
    pending.shift()?.reject(new Error('disk full'));
    await expect(failed).rejects.toThrow('disk full');
    await settle();
    pending.shift()?.resolve();
    await expect(next).resolves.toBeUndefined();
    expect(written).toEqual([2]);
  });
});
