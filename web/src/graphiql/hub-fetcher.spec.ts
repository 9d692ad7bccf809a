import { describe, expect, it } from 'vitest';
import { initialHeaders } from './hub-fetcher';

describe('the headers GraphiQL opens with', () => {
  it.each([
    { case: 'the dashboard’s token of this tab', token: 'flt_api_abc', headers: { Authorization: 'Bearer flt_api_abc' } },
    { case: 'an Authorization line waiting for a token when the tab has none', token: undefined, headers: { Authorization: 'Bearer ' } },
  ])('are $case', ({ token, headers }) => {
    expect(JSON.parse(initialHeaders(token))).toEqual(headers);
  });
});
