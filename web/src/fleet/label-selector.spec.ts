import { describe, expect, it } from 'vitest';
import { parseSelector } from './label-selector';

describe('parseSelector', () => {
  it.each([
    { text: '', selector: null },
    { text: '  ', selector: null },
    { text: 'region=eu', selector: { matchLabels: { region: 'eu' } } },
    { text: 'region==eu, env=prod', selector: { matchLabels: { region: 'eu', env: 'prod' } } },
    { text: 'env!=prod', selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] } },
    { text: 'tier in (web, api)', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] } },
    { text: 'tier notin (batch),gpu', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['batch'] }, { key: 'gpu', operator: 'Exists' }] } },
    { text: '!gpu', selector: { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] } },
    { text: 'example.com/team=a', selector: { matchLabels: { 'example.com/team': 'a' } } },
  ])('"$text" is $selector', ({ text, selector }) => {
    expect(parseSelector(text)).toEqual({ ok: true, selector });
  });

  it.each([
    { text: 'tier in (web', message: /parenthesis/ },
    { text: 'region=eu,', message: /extra comma/ },
    { text: 'tier in (web,)', message: /label values/ },
    { text: 'bad key=x', message: /not a label key/ },
    { text: 'env=pro d', message: /not a label key|not a label value/ },
  ])('"$text" is refused with a message saying what to write', ({ text, message }) => {
    const parsed = parseSelector(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toMatch(message);
  });
});
