import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { graphqlClient } from '../harness/graphql.js';
import { freePort } from '../harness/ports.js';
import { startHub, type HubProcess } from '../harness/processes.js';
import { gitProbeAppSetYaml } from '../../hub/test/support/app-set-yaml.js';

/**
 * Issue 14, "Git access" and "credentials in URLs", through the public endpoints of a real hub
 * process: a project operator (not an admin) previews AppSets whose git generator points at what the
 * hub must not read or probe. Every refusal is a clear issue; every failure to reach a repository
 * reads the same whatever the cause; no token reaches an issue, a stored condition or the hub's log.
 */

/** The message every unreachable, missing, denied or timed-out repository gets. */
const NOT_REACHABLE = 'the repository is not reachable or not found, access was denied, or the revision is not in it';
const TOKEN = 'glpat-GitAccessE2eCanary0123456789';

const appSetYaml = gitProbeAppSetYaml;

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=e2e@example.com', '-c', 'user.name=e2e', ...args], { cwd, stdio: 'ignore' });
}

interface Issue {
  code: string;
  message: string;
}

/**
 * A Git server over smart HTTP (`git http-backend` as a CGI) for the repositories in `root`, behind
 * Basic authentication as `user`:`password`; `state.up = false` makes it answer 503.
 */
async function gitHttpServer(root: string, user: string, password: string, state: { up: boolean }): Promise<Server> {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    if (!state.up) return void res.writeHead(503).end();
    if (req.headers.authorization !== expected) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
    const url = new URL(req.url ?? '/', 'http://git.local');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: user,
      },
    });
    req.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    cgi.on('close', () => {
      const all = Buffer.concat(out);
      const split = all.indexOf('\r\n\r\n');
      const headers = all.subarray(0, split).toString('utf8').split('\r\n');
      const status = Number(/^Status: (\d+)/m.exec(headers.join('\n'))?.[1] ?? 200);
      const fields = Object.fromEntries(headers.filter((h) => !h.startsWith('Status:')).map((h) => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1).trim()]));
      res.writeHead(status, fields).end(all.subarray(split + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('Git access through the public API: refused, unreachable and missing read alike, and no token is echoed', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let scratch: string;
  let allowed: string;
  let operator: ReturnType<typeof graphqlClient>;
  let admin: ReturnType<typeof graphqlClient>;
  /** Answers 404 to everything (a server without that repository) or 401 (credentials refused). */
  let notFound: Server;
  let unauthorized: Server;
  /** Serves the fleet repository over smart HTTP to ci-bot:TOKEN only. */
  let gitServer: Server;
  const gitServerState = { up: true };
  let closedPort: number;
  /** A clone of the fleet repository outside the allowed folder. */
  let outsideRepo: string;
  /** Everything the hub printed since it started answering. */
  const log: string[] = [];

  const listen = async (status: number): Promise<Server> => {
    const server = createServer((_req, res) => {
      res.writeHead(status, status === 401 ? { 'www-authenticate': 'Basic realm="git"' } : {});
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const portOf = (server: Server) => (server.address() as { port: number }).port;

  const preview = async (repoURL: string): Promise<Issue[]> => {
    const res = await operator.gql<{ previewAppSet: { issues: Issue[] } }>(`query($y: String!) { previewAppSet(yaml: $y) { issues { code message } } }`, { y: appSetYaml(repoURL) });
    expect(res.errors).toBeUndefined();
    return res.data!.previewAppSet.issues;
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-e2e-git-'));
    allowed = join(scratch, 'repos');
    const fleet = join(allowed, 'fleet');
    mkdirSync(join(fleet, 'apps'), { recursive: true });
    writeFileSync(join(fleet, 'apps', 'web.yaml'), 'name: web\ncluster: eu-1\n');
    git(fleet, 'init', '-q', '-b', 'main');
    git(fleet, 'add', '-A');
    git(fleet, 'commit', '-q', '-m', 'first');
    const outside = join(scratch, 'elsewhere');
    mkdirSync(outside);
    outsideRepo = join(outside, 'copy');
    execFileSync('git', ['clone', '-q', fleet, outsideRepo], { stdio: 'ignore' });

    execFileSync('git', ['clone', '-q', '--bare', fleet, join(scratch, 'served', 'fleet.git')], { stdio: 'ignore' });
    gitServer = await gitHttpServer(join(scratch, 'served'), 'ci-bot', TOKEN, gitServerState);
    notFound = await listen(404);
    unauthorized = await listen(401);
    closedPort = await freePort();
    db = await createTestDatabase();
    hub = await startHub({
      databaseUrl: db.url,
      // Inside the allowed folder: the hub's own data and Git cache must stay unreadable even there.
      dataDir: join(allowed, 'hub-data'),
      env: { FLOTILLA_GIT_LOCAL_PATHS: allowed, FLOTILLA_GIT_ALLOWED_HOSTS: '127.0.0.1,*.flotilla-test.invalid', FLOTILLA_GIT_TIMEOUT_SECONDS: '10' },
    });
    for (const stream of [hub.child.stdout, hub.child.stderr]) stream?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    admin = graphqlClient(hub.graphqlUrl, hub.adminToken);
    await admin.must(`mutation { registerCluster(input: { name: "eu-1", labels: { region: "eu" } }) { bootstrapToken } }`);
    const { createApiToken } = await admin.must<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "team-ci", role: OPERATOR, project: "default" }) { token } }`);
    operator = graphqlClient(hub.graphqlUrl, createApiToken.token);
    // Fills the hub's Git cache (under the allowed folder) with one repository.
    expect(await preview(fleet)).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    notFound?.close();
    unauthorized?.close();
    gitServer?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it.each([
    { case: '(a) a path outside FLOTILLA_GIT_LOCAL_PATHS', url: () => outsideRepo, code: 'GIT_REPO_NOT_ALLOWED', says: 'FLOTILLA_GIT_LOCAL_PATHS' },
    { case: "(b) the hub's own Git cache, inside an allowed folder", url: () => join(hub.dataDir, 'git-cache', readdirSync(join(hub.dataDir, 'git-cache'))[0]!), code: 'GIT_REPO_NOT_ALLOWED', says: 'FLOTILLA_GIT_LOCAL_PATHS' },
    { case: '(c) 127.0.0.1 on a closed port', url: () => `http://127.0.0.1:${closedPort}/fleet.git`, code: 'GIT_UNAVAILABLE', says: NOT_REACHABLE },
    { case: '(c) a server that has no such repository (404)', url: () => `http://127.0.0.1:${portOf(notFound)}/fleet.git`, code: 'GIT_UNAVAILABLE', says: NOT_REACHABLE },
    { case: '(c) a server that refuses the credentials (401)', url: () => `http://127.0.0.1:${portOf(unauthorized)}/fleet.git`, code: 'GIT_UNAVAILABLE', says: NOT_REACHABLE },
    { case: '(c) an allowed name that does not resolve', url: () => 'https://git.flotilla-test.invalid/fleet.git', code: 'GIT_UNAVAILABLE', says: NOT_REACHABLE },
    { case: '(c) a missing repository inside the allowed folder', url: () => join(allowed, 'no-such-repo'), code: 'GIT_UNAVAILABLE', says: NOT_REACHABLE },
    { case: '(d) a host not in FLOTILLA_GIT_ALLOWED_HOSTS', url: () => 'https://git.example.com/acme/fleet.git', code: 'GIT_REPO_NOT_ALLOWED', says: 'FLOTILLA_GIT_ALLOWED_HOSTS' },
    { case: '(e) a URL with user:TOKEN@ that fails', url: () => `http://ci-bot:${TOKEN}@127.0.0.1:${portOf(unauthorized)}/fleet.git`, code: 'GIT_UNAVAILABLE', says: NOT_REACHABLE },
  ])('$case is refused for a project operator with a clear issue', async ({ url, code, says }) => {
    const issues = await preview(url());
    expect(issues).toEqual([{ code, message: expect.stringContaining(says) }]);
    expect(JSON.stringify(issues)).not.toContain(TOKEN);
  });

  it('every unreachable case reads exactly alike once the URL is left out', async () => {
    const urls = [`http://127.0.0.1:${closedPort}/r.git`, `http://127.0.0.1:${portOf(notFound)}/r.git`, `http://127.0.0.1:${portOf(unauthorized)}/r.git`, 'https://git.flotilla-test.invalid/r.git', join(allowed, 'r.git')];
    const messages = new Set<string>();
    for (const url of urls) for (const issue of await preview(url)) messages.add(issue.message.replace(url, '<url>'));
    expect([...messages]).toEqual([`Git revision "main" of <url> could not be read: ${NOT_REACHABLE} (the reason is in the hub's log)`]);
  });

  it("a repository read with user:TOKEN@ that starts failing: the issue, the AppSet's stored condition and its Apps' explain show no token", async () => {
    const url = `http://ci-bot:${TOKEN}@127.0.0.1:${portOf(gitServer)}/fleet.git`;
    const shown = `http://ci-bot:***@127.0.0.1:${portOf(gitServer)}/fleet.git`;
    const applied = await operator.must<{ applyAppSet: { changed: boolean; issues: Issue[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code message } } }`, {
      y: appSetYaml(url, 'web'),
    });
    expect(applied.applyAppSet).toEqual({ changed: true, issues: [] });
    const explained = await operator.must<{ appSet: { apps: { explain: { git: { repoURL: string }[] } }[] } }>(`{ appSet(name: "web") { apps { explain { git { repoURL } } } } }`);
    expect(explained.appSet.apps.map((a) => a.explain.git.map((g) => g.repoURL))).toEqual([[shown]]);

    gitServerState.up = false;
    try {
      const refreshed = await operator.must<{ refreshAppSet: { issues: Issue[] } }>(`mutation { refreshAppSet(name: "web") { issues { code message } } }`);
      expect(refreshed.refreshAppSet.issues).toEqual([{ code: 'GIT_UNAVAILABLE', message: `Git revision "main" of ${shown} could not be read: ${NOT_REACHABLE} (the reason is in the hub's log)` }]);
      const { appSet } = await operator.must<{ appSet: { condition: string } }>(`{ appSet(name: "web") { condition } }`);
      expect(appSet.condition).toContain(`GIT_UNAVAILABLE: Git revision "main" of ${shown}`);
      expect(appSet.condition).not.toContain(TOKEN);
    } finally {
      gitServerState.up = true;
    }
  });

  it("a refused apply with a token in the user and the query echoes neither; the hub's log holds no token, and the hub stays responsive", async () => {
    const refused = await operator.must<{ applyAppSet: { issues: Issue[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, {
      y: appSetYaml(`http://ci-bot:${TOKEN}@127.0.0.1:${portOf(unauthorized)}/fleet.git?access_token=${TOKEN}`, 'web'),
    });
    expect(refused.applyAppSet.issues.map((i) => i.code)).toEqual(['GIT_UNAVAILABLE']);
    expect(refused.applyAppSet.issues[0]!.message).toContain(`http://ci-bot:***@127.0.0.1:${portOf(unauthorized)}/fleet.git?access_token=***`);
    expect(JSON.stringify(refused)).not.toContain(TOKEN);

    const printed = log.join('');
    // The hub logged why each read failed (for its operators), with the credentials masked.
    expect(printed).toContain(`http://ci-bot:***@127.0.0.1:${portOf(unauthorized)}`);
    expect(printed).not.toContain(TOKEN);
    expect((await fetch(hub.graphqlUrl.replace(/graphql$/, 'healthz'))).ok).toBe(true);
  });
});
