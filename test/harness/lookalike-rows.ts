import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Answer } from './security-answers.js';
import type { Who } from './security-world.js';

/**
 * One call made twice by the same principal: at an object of another tenant, and at a name or id
 * that does not exist. With the name replaced by <target>, the two answers must be identical.
 */
export interface LookalikeRow {
  readonly who: Who;
  readonly case: string;
  readonly document: string;
  readonly variables: (target: string) => Record<string, unknown>;
  readonly target: () => string;
  readonly missing: () => string;
  readonly check: (answer: Answer) => void;
}
export const byName = (name: string, missing = 'zz-missing') => ({ target: () => name, missing: () => missing });
export const byId = (id: () => string) => ({ target: id, missing: () => randomUUID() });
export const named = (target: string) => ({ target });
/** A single-object query: its field null, and one NOT_FOUND error (other fields of a batch would survive). */
export const notFound = (field: string) => (answer: Answer) => expect(answer).toEqual({ status: 200, data: { [field]: null }, errors: [{ code: 'NOT_FOUND', message: expect.any(String) }] });
export const fails = (code: string) => (answer: Answer) => {
  expect(answer.data).toBeNull();
  expect(answer.errors.map((e) => e.code)).toEqual([code]);
};
export const issues = (field: string, codes: string[]) => (answer: Answer) =>
  expect(((answer.data as Record<string, { issues: { code: string }[] }>)[field]?.issues ?? []).map((i) => i.code)).toEqual(codes);
