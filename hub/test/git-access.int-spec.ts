import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PATH_REFUSED } from '../src/core/generators/git-access';
import { GIT_NOT_REACHABLE } from '../src/core/generators/git-snapshot';
import type { RunningHub } from '../src/hub';
import { gitProbeAppSetYaml } from './support/app-set-yaml';
import { graphqlClient } from './support/graphql-client';
import { commit, git } from './support/git-repo';
import type { TestDatabase } from './support/test-database';
import { startTestHub } from './support/test-hub';

/** An AppSet whose git generator reads `repoURL`: one ConfigMap on eu-1 per `apps/*.yaml`. */
const appSetYaml = gitProbeAppSetYaml;

interface Issue {
  code: string;
  message: string;
}

/** The command lines of every process on this machine whose command line contains `needle`. */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

describe('Git access: an AppSet reads only what the hub allows, and failures tell nothing apart (real git, real PostgreSQL)', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let admin: ReturnType<typeof graphqlClient>;
  let operator: ReturnType<typeof graphqlClient>;
  let scratch: string;
  let allowed: string;
  let outside: string;
  let dataDir: string;
  /** Accepts connections and never answers: git:// and http:// reads hang on it until the timeout. */
  let silent: Server;
  let silentPort: number;
  const held: Socket[] = [];

  const preview = async (repoURL: string): Promise<Issue[]> => {
    const res = await operator<{ previewAppSet: { issues: Issue[]; totals: { added: number } | null } }>(`query($y: String!) { previewAppSet(yaml: $y) { issues { code message } totals { added } } }`, {
      y: appSetYaml(repoURL),
    });
    expect(res.errors).toBeUndefined();
    return res.data!.previewAppSet.issues;
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-git-access-'));
    allowed = join(scratch, 'allowed');
    outside = join(scratch, 'outside');
    // The data folder (and so the Git cache) inside the allowed folder: it must stay unreadable all the same.
    dataDir = join(allowed, 'hub-data');
    for (const [repo, app] of [
      [join(allowed, 'fleet'), 'public-app'],
      [join(outside, 'secret'), 'secret-app'],
    ] as const) {
      mkdirSync(repo, { recursive: true });
      git(repo, 'init', '-q', '-b', 'main');
      commit(repo, { [`apps/${app}.yaml`]: `name: ${app}\ncluster: eu-1\n` }, 'first');
    }
    symlinkSync(join(outside, 'secret'), join(allowed, 'link-to-secret'));
    mkdirSync(join(allowed, 'worktree'));
    writeFileSync(join(allowed, 'worktree', '.git'), `gitdir: ${join(outside, 'secret', '.git')}\n`);

    silent = createServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;

    ({ db, hub, gql: admin } = await startTestHub({
      FLOTILLA_DATA_DIR: dataDir,
      FLOTILLA_GIT_LOCAL_PATHS: allowed,
      FLOTILLA_GIT_TIMEOUT_SECONDS: '3',
      FLOTILLA_GIT_CONNECT_TIMEOUT_SECONDS: '2',
    }));
    const registered = await admin(`mutation { registerCluster(input: { name: "eu-1", labels: { region: "eu" } }) { bootstrapToken } }`);
    expect(registered.errors).toBeUndefined();
    const created = await admin<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "team-ci", role: OPERATOR, project: "default" }) { token } }`);
    expect(created.errors).toBeUndefined();
    operator = graphqlClient(hub.graphqlUrl, created.data!.createApiToken.token);
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    for (const socket of held) socket.destroy();
    silent?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reads a repository inside an allowed folder', async () => {
    expect(await preview(join(allowed, 'fleet'))).toEqual([]);
    expect(await preview(`file://${join(allowed, 'fleet')}`)).toEqual([]);
  });

  it.each([
    { case: 'a repository outside every allowed folder', url: () => join(outside, 'secret') },
    { case: 'a file:// URL outside every allowed folder', url: () => `file://${join(outside, 'secret')}` },
    { case: 'a symlink inside the allowed folder leading outside it', url: () => join(allowed, 'link-to-secret') },
    { case: 'a worktree whose .git file points outside', url: () => join(allowed, 'worktree') },
    { case: 'a path that climbs out with ..', url: () => `${allowed}/../outside/secret` },
    { case: "the hub's data folder", url: () => dataDir },
    { case: "a repository of the hub's own Git cache", url: () => join(dataDir, 'git-cache', readdirSync(join(dataDir, 'git-cache'))[0]!) },
    { case: 'a path that does not exist outside the allowed folders', url: () => join(outside, 'nothing-here') },
  ])('refuses $case, with one message that does not say whether it exists', async ({ url }) => {
    const issues = await preview(url());
    expect(issues).toEqual([{ code: 'GIT_REPO_NOT_ALLOWED', message: expect.stringContaining(LOCAL_PATH_REFUSED) }]);
    expect(JSON.stringify(issues)).not.toContain('secret-app');
  });

  it.each([
    { case: 'a missing repository inside the allowed folder', url: () => join(allowed, 'nothing-here') },
    { case: 'a closed port', url: () => `http://127.0.0.1:1/fleet.git` },
    { case: 'a git:// server that never answers (killed at the timeout)', url: () => `git://127.0.0.1:${silentPort}/fleet.git` },
    { case: 'an http server that never answers (killed at the timeout)', url: () => `http://127.0.0.1:${silentPort}/fleet.git` },
    { case: 'a host that does not resolve', url: () => 'https://git.flotilla-test.invalid/fleet.git' },
  ])('$case reads like every other failure: GIT_UNAVAILABLE, "not reachable or not found"', async ({ url }) => {
    const issues = await preview(url());
    expect(issues).toHaveLength(1);
    expect(issues[0]!.code).toBe('GIT_UNAVAILABLE');
    expect(issues[0]!.message).toContain(GIT_NOT_REACHABLE);
  });

  it('a git that hangs is killed with every helper it started: no process of it is left', async () => {
    await preview(`http://127.0.0.1:${silentPort}/left-behind.git`);
    await preview(`git://127.0.0.1:${silentPort}/left-behind.git`);
    expect(processesMentioning(`127.0.0.1:${silentPort}/left-behind`)).toEqual([]);
  });

  it('a refused apply with user:TOKEN@ and a token in the query echoes neither, and writes the token to no table', async () => {
    const token = 'ghp_LocalAccessCanary0123456789abcdef';
    const applied = await admin<{ applyAppSet: { issues: Issue[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: appSetYaml(join(allowed, 'fleet'), 'tokened') });
    expect(applied.data!.applyAppSet.issues).toEqual([]);
    const failing = await operator<{ applyAppSet: { issues: Issue[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, {
      y: appSetYaml(`http://ci-bot:${token}@127.0.0.1:1/fleet.git?private_token=${token}`, 'tokened'),
    });
    expect(failing.data!.applyAppSet.issues).toEqual([
      { code: 'GIT_UNAVAILABLE', message: expect.stringContaining('Git revision "main" of http://ci-bot:***@127.0.0.1:1/fleet.git?private_token=*** could not be read') },
    ]);
    expect(JSON.stringify(failing)).not.toContain(token);

    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const tables = await client.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
      expect(tables.rows.length).toBeGreaterThan(5);
      const holding: string[] = [];
      for (const { name } of tables.rows) {
        const hits = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${name}" t WHERE t::text LIKE $1`, [`%${token}%`]);
        if (Number(hits.rows[0]!.n) > 0) holding.push(name);
      }
      expect(holding).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
