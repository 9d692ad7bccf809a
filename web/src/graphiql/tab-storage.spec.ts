import { describe, expect, it } from 'vitest';
import { createTabStorage } from './tab-storage';

/** A DOM Storage over a Map, standing in for the tab's sessionStorage. */
function memoryStorage(entries: Record<string, string>): globalThis.Storage {
  const map = new Map(Object.entries(entries));
  return {
    get length() {
      return map.size;
    },
    key: (index) => [...map.keys()][index] ?? null,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
    clear: () => map.clear(),
  };
}

describe('GraphiQL’s storage in the tab', () => {
  it('reads and writes GraphiQL’s keys in the given store', () => {
    const store = memoryStorage({});
    const storage = createTabStorage(store);
    storage.setItem('graphiql:query', '{ me { actor } }');
    expect(store.getItem('graphiql:query')).toBe('{ me { actor } }');
    expect(storage.getItem('graphiql:query')).toBe('{ me { actor } }');
    storage.removeItem('graphiql:query');
    expect(store.getItem('graphiql:query')).toBeNull();
  });

  it.each<{ case: string; entries: Record<string, string>; length: number; left: string[] }>([
    { case: 'only GraphiQL’s keys', entries: { 'graphiql:tabState': '{}', 'graphiql:queries': '[]' }, length: 2, left: [] },
    { case: 'the dashboard’s token beside them', entries: { 'flotilla.token': 'flt_api_x', 'graphiql:queries': '[]' }, length: 1, left: ['flotilla.token'] },
    { case: 'nothing of GraphiQL’s', entries: { 'flotilla.token': 'flt_api_x' }, length: 0, left: ['flotilla.token'] },
  ])('counts and clears GraphiQL’s keys only, with $case', ({ entries, length, left }) => {
    const store = memoryStorage(entries);
    const storage = createTabStorage(store);
    expect(storage.length).toBe(length);
    storage.clear();
    expect(Array.from({ length: store.length }, (_, i) => store.key(i))).toEqual(left);
  });
});
