import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import type { DriverCapabilities } from '../driver/cluster-driver.js';
import { silentLogger } from '../log.js';
import { CapabilitiesSource, DISCOVERY_TIMEOUT_MS } from './capabilities-source.js';

const found = (kubernetesVersion: string): DriverCapabilities => ({ kubernetesVersion, apiVersions: ['v1'], discoveryError: '' });
const failed: DriverCapabilities = { kubernetesVersion: '', apiVersions: [], discoveryError: 'GET /api: 503' };

/** A discovery that answers each call with the next of `answers` (an Error is thrown; `never` never settles). */
function scripted(answers: (DriverCapabilities | Error | 'never')[]) {
  let calls = 0;
  return {
    discover: async (): Promise<DriverCapabilities> => {
      const answer = answers[Math.min(calls++, answers.length - 1)]!;
      if (answer === 'never') return new Promise<DriverCapabilities>(() => undefined);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    calls: () => calls,
  };
}

describe('the capabilities an agent sends in Hello', () => {
  it.each([
    { name: 'a discovery', answers: [found('v1.35.0')], want: found('v1.35.0') },
    { name: 'a newer discovery replaces an older one', answers: [found('v1.34.0'), found('v1.35.0')], want: found('v1.35.0') },
    { name: 'a failed discovery after a good one keeps the good one', answers: [found('v1.35.0'), failed], want: found('v1.35.0') },
    { name: 'a failed discovery with nothing known before is sent, so that the hub shows why', answers: [failed], want: failed },
    { name: 'a discovery that throws keeps what was known', answers: [found('v1.35.0'), new Error('boom')], want: found('v1.35.0') },
  ])('$name', async ({ answers, want }) => {
    const source = new CapabilitiesSource(scripted(answers).discover, new ManualClock(), silentLogger);
    for (let i = 0; i < answers.length; i++) await source.refresh();
    expect(source.forHello()).toEqual(want);
  });

  it('gives up on a discovery that takes too long and keeps what was known', async () => {
    const clock = new ManualClock();
    const source = new CapabilitiesSource(scripted([found('v1.35.0'), 'never']).discover, clock, silentLogger);
    await source.refresh();
    const second = source.refresh();
    clock.advance(DISCOVERY_TIMEOUT_MS);
    await second;
    expect(source.forHello()).toEqual(found('v1.35.0'));
  });

  it('runs one discovery at a time: refreshes meanwhile join it', async () => {
    const discovery = scripted([found('v1.35.0')]);
    const source = new CapabilitiesSource(discovery.discover, new ManualClock(), silentLogger);
    await Promise.all([source.refresh(), source.refresh(), source.refresh()]);
    expect(discovery.calls()).toBe(1);
  });

  it('starts a refresh for the next Hello each time one is built', async () => {
    const discovery = scripted([found('v1.34.0'), found('v1.35.0')]);
    const source = new CapabilitiesSource(discovery.discover, new ManualClock(), silentLogger);
    await source.refresh();
    expect(source.forHello()).toEqual(found('v1.34.0'));
    await source.refresh(); // joins the refresh forHello started
    expect(source.forHello()).toEqual(found('v1.35.0'));
  });
});
