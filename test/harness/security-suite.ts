import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './probes.js';
import { answerOf, scrub, type Answer } from './security-answers.js';
import { SecurityWorld, type Who, type World } from './security-world.js';

/** What a security spec's tests get from {@link describeSecurityWorlds}. */
export interface SecuritySuite {
  /** The running world (valid inside the tests and the spec's own hooks). */
  world(): World;
  /** The answer to `query` asked as `who`, through the balancer. */
  ask(who: Who, query: string, variables?: Record<string, unknown>): Promise<Answer>;
  /** `data` of an answer that must have no errors. */
  must<T>(who: Who, query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Keeps what a table row saw (scrubbed of ids and tokens) for the row 19 comparison. */
  record(key: string, value: unknown): void;
}

/**
 * The frame of the security specs (RELIABILITY.md rows 10, 12, 14 and 19): `body` runs once with one
 * hub and once with three replicas over one database behind a TCP balancer, each time against a
 * {@link SecurityWorld} started before its tests and stopped after them; then a last test checks that
 * both runs recorded the same answers for every table row (row 19).
 */
export function describeSecurityWorlds(body: (suite: SecuritySuite) => void): void {
  const transcripts = new Map<number, Map<string, unknown>>();

  describe.each([{ replicas: 1 }, { replicas: 3 }])('tenant isolation and authentication with $replicas hub replica(s)', ({ replicas }) => {
    const world = new SecurityWorld(replicas);
    let running: World | undefined;
    const transcript = new Map<string, unknown>();
    transcripts.set(replicas, transcript);
    const current = (): World => {
      if (!running) throw new Error('the security world starts in beforeAll');
      return running;
    };
    const ask = async (who: Who, query: string, variables: Record<string, unknown> = {}) => answerOf(await postGraphql(current().url, current().authorization[who], query, variables));

    beforeAll(async () => {
      running = await world.start();
    });

    afterAll(async () => {
      await world.stop();
    });

    body({
      world: current,
      ask,
      must: async <T>(who: Who, query: string, variables: Record<string, unknown> = {}): Promise<T> => {
        const answer = await ask(who, query, variables);
        if (answer.errors.length > 0 || answer.status !== 200) throw new Error(`${who}: ${query}\n${JSON.stringify(answer)}`);
        return answer.data as T;
      },
      record: (key, value) => transcript.set(key, scrub(value)),
    });
  });

  describe('row 19: one hub and three replicas', () => {
    it('answered every table row identically', () => {
      const one = transcripts.get(1);
      const three = transcripts.get(3);
      expect(one?.size).toBeGreaterThan(0);
      expect(Object.fromEntries(three ?? [])).toEqual(Object.fromEntries(one ?? []));
    });
  });
}
