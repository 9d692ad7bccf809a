import { describe, expect, it } from 'vitest';
import { applyLabelEdits, parseLabelEdits, parsePairs } from './labels.js';

describe('parseLabelEdits', () => {
  it('reads key=value as a set and key- as a removal, in order', () => {
    expect(parseLabelEdits(['env=prod', 'canary-', 'example.com/tier=web', 'empty='])).toEqual([
      { kind: 'set', key: 'env', value: 'prod' },
      { kind: 'remove', key: 'canary' },
      { kind: 'set', key: 'example.com/tier', value: 'web' },
      { kind: 'set', key: 'empty', value: '' },
    ]);
  });

  it.each([
    ['env', 'expected key=value'],
    ['=prod', 'expected key=value'],
    ['bad key=x', 'is not a label key'],
    ['env=not valid', 'is not a label value'],
    [`env=${'a'.repeat(64)}`, 'is not a label value'],
    ['-', 'is not a label key'],
  ])('refuses %j, naming it', (arg, message) => {
    expect(() => parseLabelEdits([arg])).toThrow(message);
    expect(() => parseLabelEdits([arg])).toThrow(`"${arg}"`);
  });
});

describe('applyLabelEdits', () => {
  it('sets, replaces and removes labels without changing its input', () => {
    const labels = { region: 'eu-west', canary: 'true' };
    const next = applyLabelEdits(labels, [
      { kind: 'set', key: 'region', value: 'us-east' },
      { kind: 'remove', key: 'canary' },
      { kind: 'set', key: 'env', value: 'prod' },
    ]);
    expect(next).toEqual({ region: 'us-east', env: 'prod' });
    expect(labels).toEqual({ region: 'eu-west', canary: 'true' });
  });

  it('removing a label that is not there changes nothing', () => {
    expect(applyLabelEdits({ a: 'b' }, [{ kind: 'remove', key: 'missing' }])).toEqual({ a: 'b' });
  });
});

describe('parsePairs', () => {
  it('reads key=value pairs, the value keeping any further =', () => {
    expect(parsePairs(['region=eu-west', 'url=https://x?a=b'], 'label')).toEqual({ region: 'eu-west', url: 'https://x?a=b' });
  });
  it('names the flag and the pair it refuses', () => {
    expect(() => parsePairs(['region'], 'label')).toThrow('--label "region": expected key=value');
  });
});
