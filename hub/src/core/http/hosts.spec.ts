import { describe, expect, it } from 'vitest';
import { isHostAllowed, parseHost, parseHostPatterns, type HostPattern, type RequestHost } from './hosts';

const dns = (name: string, port?: number): RequestHost => ({ kind: 'dns', name, port });
const ip = (name: string, port?: number): RequestHost => ({ kind: 'ip', name, port });

describe('parseHost', () => {
  it.each([
    { text: 'fleet.example.com', want: dns('fleet.example.com') },
    { text: 'Fleet.Example.COM:8443', want: dns('fleet.example.com', 8443) },
    { text: 'fleet.example.com.', want: dns('fleet.example.com') },
    { text: 'localhost:4000', want: dns('localhost', 4000) },
    { text: '127.0.0.1:4000', want: ip('127.0.0.1', 4000) },
    { text: '10.1.2.3', want: ip('10.1.2.3') },
    { text: '[::1]:4000', want: ip('::1', 4000) },
    { text: '[2001:DB8::7]', want: ip('2001:db8::7') },
  ])('reads the Host $text', ({ text, want }) => {
    expect(parseHost(text)).toEqual(want);
  });

  it.each([
    { name: 'an empty value', text: '' },
    { name: 'a bare IPv6 literal (it needs brackets to carry a port)', text: '::1' },
    { name: 'a port of 0', text: 'fleet.example.com:0' },
    { name: 'a port over 65535', text: 'fleet.example.com:65536' },
    { name: 'a port that is not a number', text: 'fleet.example.com:http' },
    { name: 'an empty port', text: 'fleet.example.com:' },
    { name: 'userinfo', text: 'user@fleet.example.com' },
    { name: 'a path', text: 'fleet.example.com/graphql' },
    { name: 'a scheme', text: 'http://fleet.example.com' },
    { name: 'an underscore', text: 'fleet_hub.example.com' },
    { name: 'two trailing dots', text: 'fleet.example.com..' },
    { name: 'junk after the brackets', text: '[::1]x' },
    { name: 'an unclosed bracket', text: '[::1:4000' },
    { name: 'an IPv4 octet over 255', text: '10.0.0.300' },
    { name: 'a wildcard (only allowed in patterns)', text: '*.example.com' },
  ])('refuses $name', ({ text }) => {
    expect(parseHost(text)).toBeUndefined();
  });
});

describe('parseHostPatterns', () => {
  it('reads names, ports, wildcards and IPs, and returns the entries it refuses', () => {
    expect(parseHostPatterns(' fleet.example.com, *.fleet.example.com:443 ,, 10.0.0.7, [::1]:4000, https://x.example, *.com, a b ')).toEqual({
      patterns: [
        { name: 'fleet.example.com', port: undefined },
        { name: '*.fleet.example.com', port: 443 },
        { name: '10.0.0.7', port: undefined },
        { name: '::1', port: 4000 },
      ],
      refused: ['https://x.example', '*.com', 'a b'],
    });
  });
});

describe('isHostAllowed', () => {
  const patterns: HostPattern[] = [
    { name: 'flotilla-hub.fleet.svc', port: undefined },
    { name: 'fleet.example.com', port: 443 },
    { name: '*.apps.example.com', port: undefined },
    { name: 'admin.example.com', port: 8443 },
  ];

  it.each([
    { host: ip('127.0.0.1', 4000), why: 'an IPv4 literal: no DNS rebinding without a name, and kubelet probes use the pod IP' },
    { host: ip('::1', 4000), why: 'an IPv6 literal' },
    { host: ip('10.244.1.7'), why: 'a pod IP without port' },
    { host: dns('localhost', 4000), why: 'localhost on any port' },
    { host: dns('flotilla-hub.fleet.svc', 4000), why: 'a listed name on any port' },
    { host: dns('fleet.example.com', 443), why: 'a name listed with its port' },
    { host: dns('fleet.example.com'), why: 'a portless Host for a name listed on 443 (the browser left the default port out)' },
    { host: dns('grafana.apps.example.com', 8080), why: 'one label under a wildcard' },
    { host: dns('admin.example.com', 8443), why: 'a name listed on another port, with that port' },
  ])('allows $host.name:$host.port: $why', ({ host }) => {
    expect(isHostAllowed(host, patterns)).toBe(true);
  });

  it.each([
    { host: dns('evil.example', 4000), why: 'an unlisted name (a rebinding attacker’s)' },
    { host: dns('localhost.evil.example'), why: 'a name that only starts like localhost' },
    { host: dns('127.0.0.1.nip.io'), why: 'a name that only looks like an IP' },
    { host: dns('fleet.example.com', 4000), why: 'a listed name on another port than its entry' },
    { host: dns('admin.example.com'), why: 'a portless Host for a name listed on a non-default port' },
    { host: dns('apps.example.com'), why: 'the wildcard’s own domain' },
    { host: dns('a.b.apps.example.com'), why: 'two labels under a wildcard' },
    { host: dns('xapps.example.com'), why: 'a name that only ends like the wildcard’s domain' },
  ])('refuses $host.name:$host.port: $why', ({ host }) => {
    expect(isHostAllowed(host, patterns)).toBe(false);
  });

  it('with no pattern at all still allows IP literals and localhost, and nothing else', () => {
    expect([ip('192.168.1.5'), dns('localhost'), dns('my-laptop')].map((host) => isHostAllowed(host, []))).toEqual([true, true, false]);
  });
});
