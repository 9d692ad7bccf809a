import { describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config';

const KEY = Buffer.alloc(32, 9).toString('base64');

describe('FLOTILLA_REDACTION_KEY', () => {
  it('is unset by default: the hub derives the redaction key from its CA encryption key', () => {
    expect(loadHubConfig({}).secrets).toEqual({ redactionKey: undefined });
  });

  it('is read as 32 bytes of base64', () => {
    expect(loadHubConfig({ FLOTILLA_REDACTION_KEY: KEY }).secrets.redactionKey).toEqual(Buffer.alloc(32, 9));
  });

  it.each([
    { name: 'a key of another length is refused', value: Buffer.alloc(16, 1).toString('base64') },
    { name: 'a value that is not base64 is refused', value: 'not base64 at all!' },
  ])('$name, without echoing the value', ({ value }) => {
    expect(() => loadHubConfig({ FLOTILLA_REDACTION_KEY: value })).toThrow(HubConfigError);
    expect(() => loadHubConfig({ FLOTILLA_REDACTION_KEY: value })).toThrow('FLOTILLA_REDACTION_KEY must be 32 bytes in base64');
    try {
      loadHubConfig({ FLOTILLA_REDACTION_KEY: value });
    } catch (error) {
      expect(String(error)).not.toContain(value);
    }
  });
});
