import { describe, expect, it } from 'vitest';
import { hostOfAddress, parseSubjectAltName, parseSubjectAltNames, serverSubjectAltNames, type SubjectAltName } from './server-names';

const dns = (value: string): SubjectAltName => ({ kind: 'dns', value });
const ip = (value: string): SubjectAltName => ({ kind: 'ip', value });
const LOOPBACK = [dns('localhost'), ip('127.0.0.1'), ip('::1')];

describe('parseSubjectAltName', () => {
  it.each([
    { text: 'hub.example.com', want: dns('hub.example.com') },
    { text: 'Hub.Example.COM', want: dns('hub.example.com') },
    { text: 'flotilla-hub', want: dns('flotilla-hub') },
    { text: '*.hub.example.com', want: dns('*.hub.example.com') },
    { text: ' 10.0.0.7 ', want: ip('10.0.0.7') },
    { text: '::1', want: ip('::1') },
    { text: '[2001:DB8::7]', want: ip('2001:db8::7') },
    { text: '::ffff:10.0.0.1', want: ip('::ffff:10.0.0.1') },
    { text: '1:2:3:4:5:6:7:8', want: ip('1:2:3:4:5:6:7:8') },
  ])('reads $text as $want.kind $want.value', ({ text, want }) => {
    expect(parseSubjectAltName(text)).toEqual(want);
  });

  it.each([
    { name: 'a name with a port', text: 'hub.example.com:4001' },
    { name: 'a URL', text: 'https://hub.example.com' },
    { name: 'an IPv4 octet over 255', text: '10.0.0.256' },
    { name: 'an IPv6 with two ::', text: '1::2::3' },
    { name: 'an IPv6 with nine groups', text: '1:2:3:4:5:6:7:8:9' },
    { name: 'a wildcard in the middle', text: 'hub.*.example.com' },
    { name: 'a wildcard over a whole domain', text: '*.com' },
    { name: 'an empty label', text: 'hub..example.com' },
    { name: 'a label ending in a dash', text: 'hub-.example.com' },
    { name: 'a bracketed name', text: '[hub]' },
    { name: 'nothing', text: '' },
  ])('refuses $name', ({ text }) => {
    expect(parseSubjectAltName(text)).toBeUndefined();
  });
});

describe('parseSubjectAltNames', () => {
  it('splits a comma list, skips empty entries and returns the refused ones apart', () => {
    expect(parseSubjectAltNames(' hub.example.com,, 10.0.0.7 , hub:4001 ,')).toEqual({ names: [dns('hub.example.com'), ip('10.0.0.7')], refused: ['hub:4001'] });
  });
});

describe('hostOfAddress', () => {
  it.each([
    { address: 'hub.example.com:4001', host: 'hub.example.com' },
    { address: '10.0.0.7:443', host: '10.0.0.7' },
    { address: '[::1]:4001', host: '::1' },
    { address: 'hub.example.com', host: undefined },
    { address: '[]:4001', host: undefined },
  ])('$address has host $host', ({ address, host }) => {
    expect(hostOfAddress(address)).toBe(host);
  });
});

describe('serverSubjectAltNames', () => {
  it.each([
    {
      name: 'a hub listening on loopback with nothing configured names loopback only',
      sources: { configured: [], agentAddress: undefined, grpcHost: '127.0.0.1' },
      want: LOOPBACK,
    },
    {
      name: 'a hub listening on every interface does not name the wildcard address',
      sources: { configured: [], agentAddress: undefined, grpcHost: '0.0.0.0' },
      want: LOOPBACK,
    },
    {
      name: 'the host agents dial and the configured names join loopback, DNS names first, then IPs, each sorted',
      sources: { configured: [ip('10.0.0.7'), dns('hub.svc')], agentAddress: 'agents.example.com:443', grpcHost: '::' },
      want: [dns('agents.example.com'), dns('hub.svc'), dns('localhost'), ip('10.0.0.7'), ip('127.0.0.1'), ip('::1')],
    },
    {
      name: 'a bracketed IPv6 agent address names its IP',
      sources: { configured: [], agentAddress: '[2001:db8::7]:4001', grpcHost: '0.0.0.0' },
      want: [dns('localhost'), ip('127.0.0.1'), ip('2001:db8::7'), ip('::1')],
    },
    {
      name: 'a specific listen address is named, and duplicates appear once',
      sources: { configured: [ip('192.0.2.10'), dns('localhost')], agentAddress: '192.0.2.10:4001', grpcHost: '192.0.2.10' },
      want: [dns('localhost'), ip('127.0.0.1'), ip('192.0.2.10'), ip('::1')],
    },
  ])('$name', ({ sources, want }) => {
    expect(serverSubjectAltNames(sources)).toEqual(want);
  });

  it('does not change its input', () => {
    const configured = [dns('b.example.com'), dns('a.example.com')];
    serverSubjectAltNames({ configured, agentAddress: undefined, grpcHost: '0.0.0.0' });
    expect(configured).toEqual([dns('b.example.com'), dns('a.example.com')]);
  });
});
