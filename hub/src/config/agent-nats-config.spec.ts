import { describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config';

describe('where agents reach NATS (FLOTILLA_AGENT_NATS_URL, FLOTILLA_AGENT_NATS_CA_FILE)', () => {
  const nats = { FLOTILLA_NATS_URL: 'nats://nats.internal:4222', FLOTILLA_NATS_OPERATOR: 'true' };

  it.each([
    { name: 'is the hub’s own servers and CA when unset', env: nats, agentNats: { servers: undefined, caFile: undefined } },
    {
      name: 'lists the servers of FLOTILLA_AGENT_NATS_URL, trimmed',
      env: { ...nats, FLOTILLA_AGENT_NATS_URL: ' tls://leaf-eu.example.com:4222 , tls://leaf-us.example.com:4222 ' },
      agentNats: { servers: ['tls://leaf-eu.example.com:4222', 'tls://leaf-us.example.com:4222'], caFile: undefined },
    },
    { name: 'takes a CA file of its own', env: { ...nats, FLOTILLA_AGENT_NATS_CA_FILE: '/etc/flotilla/agent-nats-ca/ca.crt' }, agentNats: { servers: undefined, caFile: '/etc/flotilla/agent-nats-ca/ca.crt' } },
    { name: 'treats empty values as unset', env: { ...nats, FLOTILLA_AGENT_NATS_URL: ' ', FLOTILLA_AGENT_NATS_CA_FILE: '' }, agentNats: { servers: undefined, caFile: undefined } },
    { name: 'is unset without a NATS link', env: {}, agentNats: { servers: undefined, caFile: undefined } },
  ])('$name', ({ env, agentNats }) => {
    expect(loadHubConfig(env).agentNats).toEqual(agentNats);
  });

  it.each([
    { name: 'agent servers without the hub’s NATS link are refused', env: { FLOTILLA_AGENT_NATS_URL: 'tls://leaf:4222' }, problem: 'FLOTILLA_AGENT_NATS_URL needs FLOTILLA_NATS_URL' },
    {
      name: 'both agent settings without the hub’s NATS link are named together',
      env: { FLOTILLA_AGENT_NATS_URL: 'tls://leaf:4222', FLOTILLA_AGENT_NATS_CA_FILE: '/ca.pem' },
      problem: 'FLOTILLA_AGENT_NATS_URL and FLOTILLA_AGENT_NATS_CA_FILE need FLOTILLA_NATS_URL',
    },
    {
      name: 'agent settings of a hub that is not the NATS operator are refused (nothing would use them)',
      env: { FLOTILLA_NATS_URL: 'nats://nats.internal:4222', FLOTILLA_AGENT_NATS_URL: 'tls://leaf:4222' },
      problem: 'FLOTILLA_AGENT_NATS_URL needs FLOTILLA_NATS_OPERATOR=true',
    },
    { name: 'a URL of another scheme is refused', env: { ...nats, FLOTILLA_AGENT_NATS_URL: 'https://leaf:4222' }, problem: 'FLOTILLA_AGENT_NATS_URL entry 1 must be nats://host:port, tls://host:port or host:port' },
    { name: 'an empty list is refused', env: { ...nats, FLOTILLA_AGENT_NATS_URL: ',' }, problem: 'FLOTILLA_AGENT_NATS_URL must list at least one server' },
  ])('$name', ({ env, problem }) => {
    expect(() => loadHubConfig(env)).toThrow(HubConfigError);
    expect(() => loadHubConfig(env)).toThrow(problem);
  });

  it('refuses credentials in an agent URL without echoing them', () => {
    try {
      loadHubConfig({ ...nats, FLOTILLA_AGENT_NATS_URL: 'tls://agent:s3cr3t-pass@leaf:4222' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('FLOTILLA_AGENT_NATS_URL entry 1 holds credentials');
      expect(String(error)).not.toContain('s3cr3t-pass');
    }
  });
});
