import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually } from '../harness/eventually.js';
import { startInteractiveOidcProvider, type InteractiveOidcProvider } from '../harness/oidc-interactive.js';
import { startHub, type HubProcess } from '../harness/processes.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'cli/dist/main.js');
const AUDIENCE = 'https://hub.flotilla.test';
const CLIENT_ID = 'flotilla-cli';

/**
 * A minimal browser: keeps cookies, follows redirects, submits the first POST form of each page (the
 * login form with `user`), until a page `isDone` says so.
 */
async function browse(url: string, user: string, isDone: (url: string, html: string) => boolean): Promise<string> {
  const cookies = new Map<string, string>();
  const send = async (target: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair!.split('=');
      const expired = attributes.some((a) => /max-age=0/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired) cookies.delete(name!.trim());
      else cookies.set(name!.trim(), value.join('='));
    }
    return response;
  };
  let response = await send(url);
  let current = url;
  // Bounded: the device flow is about a dozen pages and redirects.
  for (let step = 0; step < 30; step++) {
    const location = response.headers.get('location');
    if (location) {
      current = new URL(location, current).toString();
      response = await send(current);
      continue;
    }
    const html = await response.text();
    if (isDone(current, html)) return html;
    const form = /<form[^>]*method="post"[^>]*>[\s\S]*?<\/form>/i.exec(html)?.[0] ?? /<form[^>]*>[\s\S]*?<\/form>/i.exec(html)?.[0];
    if (!form) throw new Error(`no form on ${current}: ${html.slice(0, 400)}`);
    const action = new URL(/action="([^"]*)"/.exec(form)![1]!.replace(/&amp;/g, '&'), current).toString();
    const body = new URLSearchParams();
    for (const input of form.match(/<input[^>]*>/g) ?? []) {
      const name = /name="([^"]+)"/.exec(input)?.[1];
      if (!name) continue;
      const value = /value="([^"]*)"/.exec(input)?.[1] ?? (name === 'login' ? user : name === 'password' ? 'any' : '');
      body.set(name, value.replace(/&amp;/g, '&'));
    }
    current = action;
    response = await send(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  }
  throw new Error(`the login did not finish within 30 steps (at ${current})`);
}

describe('flotilla login --oidc against a real OpenID provider', () => {
  let provider: InteractiveOidcProvider;
  let issuer: string;
  let hub: HubProcess;
  let home: string;
  const config = () => join(home, 'config', 'flotilla', 'config.yaml');

  const cliEnv = () => {
    const env: Record<string, string> = { ...(process.env as Record<string, string>), XDG_CONFIG_HOME: join(home, 'config'), HOME: home };
    for (const name of ['FLOTILLA_TOKEN', 'FLOTILLA_SERVER', 'NO_COLOR', 'FORCE_COLOR']) delete env[name];
    return env;
  };
  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((done) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv() });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('exit', (code) => done({ code, stdout, stderr }));
    });

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'flotilla-cli-oidc-'));
    // The device authorization grant, refresh tokens, and loopback redirects on any port (a native client).
    provider = await startInteractiveOidcProvider({
      audience: AUDIENCE,
      clients: [{ clientId: CLIENT_ID, grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token', 'authorization_code'], redirectUris: ['http://127.0.0.1/callback'] }],
      users: { '*': { groups: ['platform'] } },
    });
    issuer = provider.issuer;
    hub = await startHub({
      env: {
        FLOTILLA_OIDC_ISSUER: issuer,
        FLOTILLA_OIDC_AUDIENCE: AUDIENCE,
        FLOTILLA_OIDC_ROLE_BINDINGS: JSON.stringify([{ group: 'platform', role: 'ADMIN' }]),
      },
    });
  });

  afterAll(async () => {
    await hub?.stop();
    await provider?.stop();
  });

  it('logs in with the device-code flow, stores the session 0600, and the hub takes the caller for the OIDC user', async () => {
    const login = spawnLogin(cliEnv(), ['login', '--server', hub.graphqlUrl, '--oidc', '--issuer', issuer, '--client-id', CLIENT_ID, '--audience', AUDIENCE, '--context', 'sso']);
    const prompt = await eventually(() => /open (\S+) and enter the code (\S+)/.exec(login.stderr()), { what: `the device-code prompt\n${login.stderr()}`, timeoutMs: 20_000 });
    await browse(prompt[1]!, 'alice', (_url, html) => /Sign-in Success/i.test(html));
    const result = await login.exited;
    expect(result, login.stderr()).toMatchObject({ code: 0 });
    expect(login.stdout()).toContain('as oidc:alice (admin); context "sso" is current.');
    const stored = parse(readFileSync(config(), 'utf8')) as { contexts: { name: string; oidc: { accessToken: string; refreshToken: string; expiresAt: string; issuer: string } }[] };
    const sso = stored.contexts.find((c) => c.name === 'sso')!;
    expect(sso.oidc).toMatchObject({ issuer, clientId: CLIENT_ID, audience: AUDIENCE, accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(Date.parse(sso.oidc.expiresAt)).toBeGreaterThan(Date.now());
    expect(statSync(config()).mode & 0o777).toBe(0o600);
    expect(login.stdout() + login.stderr()).not.toContain(sso.oidc.accessToken);
    expect(JSON.parse((await cli(['whoami', '-o', 'json'])).stdout)).toMatchObject({ actor: 'oidc:alice', kind: 'oidc', admin: true });
    expect(JSON.parse((await cli(['context', 'list', '-o', 'json'])).stdout)).toMatchObject({ contexts: [{ name: 'sso', auth: `oidc ${issuer}` }] });
  });

  it('refreshes an expired access token with the refresh token and keeps the new one', async () => {
    const before = parse(readFileSync(config(), 'utf8')) as { contexts: { name: string; oidc: { accessToken: string; expiresAt: string } }[] };
    const sso = () => before.contexts.find((c) => c.name === 'sso')!;
    const previousToken = sso().oidc.accessToken;
    sso().oidc.expiresAt = '2000-01-01T00:00:00.000Z';
    writeFileSync(config(), stringify(before), { mode: 0o600 });
    const result = await cli(['whoami', '-o', 'json']);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(result.stdout)).toMatchObject({ actor: 'oidc:alice' });
    const after = parse(readFileSync(config(), 'utf8')) as typeof before;
    const refreshed = after.contexts.find((c) => c.name === 'sso')!;
    expect(refreshed.oidc.accessToken).not.toBe(previousToken);
    expect(Date.parse(refreshed.oidc.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('logs in with authorization code and PKCE through a loopback redirect when told to (--flow pkce)', async () => {
    const login = spawnLogin(cliEnv(), ['login', '--server', hub.graphqlUrl, '--oidc', '--flow', 'pkce', '--issuer', issuer, '--client-id', CLIENT_ID, '--audience', AUDIENCE, '--context', 'browser']);
    const prompt = await eventually(() => /open this address in a browser on this machine:\n\s+(\S+)/.exec(login.stderr()), { what: `the browser prompt\n${login.stderr()}`, timeoutMs: 20_000 });
    const authorize = new URL(prompt[1]!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const page = await browse(prompt[1]!, 'bob', (url) => url.startsWith(authorize.searchParams.get('redirect_uri')!));
    expect(page).toContain('return to the terminal');
    expect(await login.exited, login.stderr()).toMatchObject({ code: 0 });
    expect(login.stdout()).toContain('as oidc:bob (admin); context "browser" is current.');
    expect(JSON.parse((await cli(['whoami', '-o', 'json'])).stdout)).toMatchObject({ actor: 'oidc:bob' });
    expect((await cli(['context', 'use', 'sso'])).code).toBe(0);
  });

  it('says to log in again when the session cannot be refreshed', async () => {
    const stored = parse(readFileSync(config(), 'utf8')) as { currentContext: string; contexts: { name: string; oidc: { refreshToken: string; expiresAt: string } }[] };
    expect(stored.currentContext).toBe('sso');
    const sso = stored.contexts.find((c) => c.name === 'sso')!;
    sso.oidc.expiresAt = '2000-01-01T00:00:00.000Z';
    sso.oidc.refreshToken = randomBytes(24).toString('base64url');
    writeFileSync(config(), stringify(stored), { mode: 0o600 });
    const result = await cli(['cluster', 'list']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`log in again with \`flotilla login --server ${hub.graphqlUrl} --oidc --issuer ${issuer} --client-id ${CLIENT_ID}\``);
  });
});

/** Starts the CLI and keeps its output, for a command that waits on the user (the device login). */
function spawnLogin(env: Record<string, string>, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null }>((done) => child.once('exit', (code) => done({ code })));
  return { stdout: () => stdout, stderr: () => stderr, exited };
}
