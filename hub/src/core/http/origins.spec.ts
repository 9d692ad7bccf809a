import { describe, expect, it } from 'vitest';
import { parseHost } from './hosts';
import { isSameOrigin, parseAllowedOrigins, parseOrigin, serializeOrigin } from './origins';

describe('parseOrigin', () => {
  it.each([
    { text: 'https://fleet.example.com', want: { scheme: 'https', host: 'fleet.example.com', port: 443 }, canonical: 'https://fleet.example.com' },
    { text: 'HTTPS://Fleet.Example.com:443', want: { scheme: 'https', host: 'fleet.example.com', port: 443 }, canonical: 'https://fleet.example.com' },
    { text: 'http://localhost:5173', want: { scheme: 'http', host: 'localhost', port: 5173 }, canonical: 'http://localhost:5173' },
    { text: 'http://127.0.0.1', want: { scheme: 'http', host: '127.0.0.1', port: 80 }, canonical: 'http://127.0.0.1' },
    { text: 'http://[::1]:4000', want: { scheme: 'http', host: '::1', port: 4000 }, canonical: 'http://[::1]:4000' },
  ])('reads $text as $canonical', ({ text, want, canonical }) => {
    const origin = parseOrigin(text);
    expect(origin).toEqual(want);
    expect(serializeOrigin(origin!)).toBe(canonical);
  });

  it.each([
    { name: 'the opaque origin null', text: 'null' },
    { name: 'a wildcard', text: '*' },
    { name: 'a trailing slash', text: 'https://fleet.example.com/' },
    { name: 'a path', text: 'https://fleet.example.com/app' },
    { name: 'userinfo', text: 'https://user@fleet.example.com' },
    { name: 'another scheme', text: 'file://fleet.example.com' },
    { name: 'a browser extension', text: 'chrome-extension://abcdefghijklmnop' },
    { name: 'no scheme', text: 'fleet.example.com' },
    { name: 'two origins in one header', text: 'https://a.example, https://b.example' },
    { name: 'a bad port', text: 'https://fleet.example.com:99999' },
  ])('refuses $name', ({ text }) => {
    expect(parseOrigin(text)).toBeUndefined();
  });
});

describe('parseAllowedOrigins', () => {
  it('canonicalises and deduplicates the entries, and returns the ones it refuses', () => {
    expect(parseAllowedOrigins('https://Dash.Example.com, https://dash.example.com:443,http://localhost:5173,, null, *, https://x.example/app')).toEqual({
      origins: ['https://dash.example.com', 'http://localhost:5173'],
      refused: ['null', '*', 'https://x.example/app'],
    });
  });
});

describe('isSameOrigin', () => {
  const host = (text: string) => parseHost(text)!;
  it.each([
    { origin: 'http://127.0.0.1:4000', host: '127.0.0.1:4000', same: true, why: 'the hub addressed directly' },
    { origin: 'https://fleet.example.com', host: 'fleet.example.com', same: true, why: 'behind a TLS ingress: both leave 443 out' },
    { origin: 'http://fleet.example.com', host: 'fleet.example.com', same: true, why: 'plain HTTP on 80' },
    { origin: 'https://fleet.example.com', host: 'fleet.example.com:443', same: true, why: 'a Host that spells the default port out' },
    { origin: 'http://[::1]:4000', host: '[::1]:4000', same: true, why: 'IPv6 loopback' },
    { origin: 'http://127.0.0.1:5173', host: '127.0.0.1:4000', same: false, why: 'another port of the same machine (a dev server)' },
    { origin: 'https://evil.example', host: 'fleet.example.com', same: false, why: 'another site' },
    { origin: 'http://localhost:4000', host: '127.0.0.1:4000', same: false, why: 'another name for the same machine' },
    { origin: 'https://fleet.example.com', host: 'fleet.example.com:80', same: false, why: 'an HTTPS page and a Host on port 80' },
  ])('$origin against Host $host: $same ($why)', ({ origin, host: hostText, same }) => {
    expect(isSameOrigin(parseOrigin(origin)!, host(hostText))).toBe(same);
  });
});
