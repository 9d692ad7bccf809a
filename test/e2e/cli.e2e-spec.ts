import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { freePort } from '../harness/ports.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'cli/dist/main.js');
const TMUX = '/usr/bin/tmux';

/** Three clusters in three regions; Apps named `bad*` fail on eu-1 (its agent is told so). */
const CLUSTERS = [
  { name: 'us-1', region: 'us' },
  { name: 'eu-1', region: 'eu' },
  { name: 'ap-1', region: 'ap' },
];

/** An AppSet over every cluster, rolled out us → eu → ap, one wave per region. */
const appSet = (name: string, options: { data?: string; strategy?: string } = {}) => `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: ${name}
spec:
  generators:
    - clusters: {}
  template:
    namespace: ${name}
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data:
          region: "{{ cluster.labels.region }}"
          color: ${options.data ?? 'blue'}
  strategy:
    byLabel: { label: region, order: [us, eu, ap], maxConcurrency: "100%", maxFailures: 0, soak: 1s, progressDeadline: 1m${options.strategy ? `, ${options.strategy}` : ''} }
`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the flotilla command line against a hub with three sim agents', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  const agents: ManagedProcess[] = [];
  let home: string;
  let files: string;
  let server: string;

  /** Runs the built binary with a private config folder and no token in its environment. */
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    new Promise((done) => {
      const base: Record<string, string> = { ...(process.env as Record<string, string>), XDG_CONFIG_HOME: join(home, 'config'), HOME: home };
      for (const name of ['FLOTILLA_TOKEN', 'FLOTILLA_SERVER', 'NO_COLOR', 'FORCE_COLOR', 'COLUMNS']) delete base[name];
      execFile(process.execPath, [CLI, ...args], { env: { ...base, ...env }, timeout: 90_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      });
    });
  /** Runs it and expects exit 0; returns standard output. */
  const ok = async (args: string[], env: Record<string, string> = {}): Promise<string> => {
    const result = await cli(args, env);
    expect(result, `flotilla ${args.join(' ')}`).toMatchObject({ code: 0 });
    return result.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '-o', 'json'])) as T;
  const file = (name: string, text: string) => {
    const path = join(files, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'flotilla-cli-home-'));
    files = mkdtempSync(join(tmpdir(), 'flotilla-cli-files-'));
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    server = hub.graphqlUrl.replace(/\/graphql$/, '');
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await db?.drop();
  });

  describe('login and contexts', () => {
    it('logs in with the token from FLOTILLA_TOKEN and keeps it in a 0600 file in a 0700 folder, never printing it', async () => {
      const result = await cli(['login', '--server', server], { FLOTILLA_TOKEN: hub.adminToken });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('as token:bootstrap-admin');
      expect(result.stdout + result.stderr).not.toContain(hub.adminToken);
      const config = join(home, 'config', 'flotilla', 'config.yaml');
      expect(statSync(config).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, 'config', 'flotilla')).mode & 0o777).toBe(0o700);
      expect(parse(readFileSync(config, 'utf8'))).toMatchObject({ currentContext: expect.any(String), contexts: [{ server: hub.graphqlUrl, token: hub.adminToken }] });
    });

    it('lists contexts without their tokens, and whoami answers as the stored token', async () => {
      const listed = await json<{ currentContext: string; contexts: { name: string; server: string; auth: string }[] }>(['context', 'list']);
      expect(listed.contexts).toEqual([{ name: listed.currentContext, server: hub.graphqlUrl, auth: 'token' }]);
      expect(JSON.stringify(listed)).not.toContain(hub.adminToken);
      expect(await json<{ actor: string; admin: boolean }>(['whoami'])).toMatchObject({ actor: 'token:bootstrap-admin', admin: true });
    });

    it('takes --token over FLOTILLA_TOKEN over the context, and says how to log in again when the hub refuses one', async () => {
      const bogus = `flt_api_${'x'.repeat(43)}`;
      const refused = await cli(['cluster', 'list', '--token', bogus], { FLOTILLA_TOKEN: hub.adminToken });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`flotilla login --server ${hub.graphqlUrl}`);
      expect(refused.stderr).not.toContain(bogus);
      const fromEnv = await cli(['cluster', 'list'], { FLOTILLA_TOKEN: bogus });
      expect(fromEnv.code).toBe(2);
      expect(await cli(['cluster', 'list', '--token', hub.adminToken], { FLOTILLA_TOKEN: bogus })).toMatchObject({ code: 0 });
    });

    it('says the hub is unreachable, naming the address', async () => {
      const port = await freePort();
      const result = await cli(['cluster', 'list', '--server', `http://127.0.0.1:${port}`, '--token', hub.adminToken]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`cannot reach the hub at http://127.0.0.1:${port}/graphql`);
    });

    it('says permission denied when the role does not allow the command', async () => {
      const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
      const { createApiToken } = await api.must<{ createApiToken: { token: string } }>(
        `mutation { createApiToken(input: { name: "cli-viewer", role: VIEWER, project: "default", expiresIn: "1h" }) { token } }`,
      );
      const result = await cli(['cluster', 'register', 'nope', '--token', createApiToken.token]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('permission denied');
    });

    it('uses, and deletes, contexts by name', async () => {
      await ok(['login', '--server', server, '--context', 'second', '--token', hub.adminToken]);
      expect((await json<{ currentContext: string }>(['context', 'list'])).currentContext).toBe('second');
      const first = (await json<{ contexts: { name: string }[] }>(['context', 'list'])).contexts.find((c) => c.name !== 'second')!.name;
      await ok(['context', 'use', first]);
      await ok(['context', 'delete', 'second']);
      expect(await json<{ currentContext: string; contexts: unknown[] }>(['context', 'list'])).toMatchObject({ currentContext: first, contexts: [{ name: first }] });
      expect(await cli(['context', 'use', 'second'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no context named "second"') });
    });
  });

  describe('clusters', () => {
    it('registers clusters, printing the helm install command, and their agents connect with the token it gives', async () => {
      const table = await cli(['cluster', 'register', 'spare', '-l', 'region=none']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^helm (upgrade --install|install) /);
      for (const cluster of CLUSTERS) {
        const registered = await json<{ bootstrapToken: string; caBundle: string; agentInstallCommand: string; cluster: { name: string; labels: Record<string, string> } }>([
          'cluster', 'register', cluster.name, '--label', `region=${cluster.region}`,
        ]);
        expect(registered.cluster).toMatchObject({ name: cluster.name, labels: { region: cluster.region } });
        expect(registered.agentInstallCommand).toContain('helm');
        agents.push(
          startAgent({
            hubAddress: hub.grpcAddress,
            hubCa: registered.caBundle,
            cluster: cluster.name,
            bootstrapToken: registered.bootstrapToken,
            env: cluster.region === 'eu' ? { FLOTILLA_SIM_FAIL_APPS: 'bad*' } : {},
          }),
        );
      }
      await eventually(async () => (await json<{ name: string; connected: boolean }[]>(['cluster', 'list'])).filter((c) => c.connected).length === 3, {
        what: 'three agents connected',
        timeoutMs: 60_000,
      });
    });

    it('lists clusters as a table, wide, JSON, YAML and names', async () => {
      const table = await ok(['cluster', 'list']);
      expect(table.split('\n')[0]).toMatch(/^NAME\s+CONNECTED\s+APPS\s+LAST SEEN\s+LABELS$/);
      expect(table).toMatch(/us-1\s+true/);
      expect(await ok(['cluster', 'list', '-o', 'wide'])).toContain('KUBERNETES');
      expect(await ok(['cluster', 'list', '-o', 'name'])).toBe('cluster/ap-1\ncluster/eu-1\ncluster/spare\ncluster/us-1\n');
      expect(parse(await ok(['cluster', 'list', '-o', 'yaml']))).toHaveLength(4);
      expect(await json<{ name: string; labels: Record<string, string> }>(['cluster', 'get', 'eu-1'])).toMatchObject({ name: 'eu-1', labels: { region: 'eu' }, connected: true });
    });

    it('sets and removes labels', async () => {
      expect(await json(['cluster', 'labels', 'spare', 'tier=gold', 'canary=true'])).toEqual({ region: 'none', tier: 'gold', canary: 'true' });
      expect(await json(['cluster', 'labels', 'spare', 'canary-'])).toEqual({ region: 'none', tier: 'gold' });
      expect(await cli(['cluster', 'labels', 'spare', 'bad key=x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('"bad key=x"') });
    });

    it('deregisters a cluster', async () => {
      expect(await ok(['cluster', 'deregister', 'spare'])).toContain('Cluster spare deregistered.');
      expect(await cli(['cluster', 'get', 'spare'])).toMatchObject({ code: 2, stderr: expect.stringContaining('NOT_FOUND') });
    });
  });

  describe('AppSets', () => {
    it('applies every document of a folder', async () => {
      const dir = join(files, 'sets');
      mkdirSync(dir);
      writeFileSync(join(dir, 'a.yaml'), `${appSet('web')}---\n${appSet('bad-pause')}`);
      writeFileSync(join(dir, 'b.yml'), appSet('gated', { strategy: 'approval: true' }));
      const out = await ok(['appset', 'apply', '-f', dir]);
      expect(out).toBe(['appset/web configured (revision 1, 3 Apps pending release)', 'appset/bad-pause configured (revision 1, 3 Apps pending release)', 'appset/gated configured (revision 1, 3 Apps pending release)', ''].join('\n'));
      expect(await ok(['appset', 'apply', '-f', join(dir, 'b.yml')])).toBe('appset/gated unchanged\n');
    });

    it('prints issues as file:line:col: code message, at their line in the file', async () => {
      const text = `${appSet('fine')}---\n${appSet('broken').replace('  template:\n', '  bogus: 1\n  template:\n')}`;
      const path = file('issues.yaml', text);
      const result = await cli(['appset', 'apply', '-f', path]);
      expect(result.code).toBe(1);
      const line = text.split('\n').findIndex((l) => l.includes('bogus: 1')) + 1;
      expect(result.stderr).toContain(`${path}:${line}:3: SCHEMA`);
      expect(result.stdout).toBe('appset/fine configured (revision 1, 3 Apps pending release)\n');
    });

    it('prints a YAML syntax error with its position and applies nothing', async () => {
      const path = file('syntax.yaml', 'metadata:\n  name: [web\nspec: {}\n');
      const result = await cli(['appset', 'apply', '-f', path]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML_SYNTAX \\S`, 'm'));
    });

    it('diff exits 0 without a change, 1 with changes (showing them per cluster), 2 on an error', async () => {
      const same = await cli(['appset', 'diff', '-f', file('same.yaml', appSet('web'))]);
      expect(same).toMatchObject({ code: 0, stdout: '' });
      const changed = await cli(['appset', 'diff', '-f', file('changed.yaml', appSet('web', { data: 'green' }))]);
      expect(changed.code).toBe(1);
      for (const cluster of CLUSTERS) expect(changed.stdout).toContain(`diff appset/web cluster/${cluster.name} app/web (changed)`);
      expect(changed.stdout).toContain('-  color: blue');
      expect(changed.stdout).toContain('+  color: green');
      expect(changed.stdout).not.toContain('\u001b[');
      const broken = await cli(['appset', 'diff', '-f', file('template-error.yaml', appSet('web').replace('{{ cluster.labels.region }}', '{{ nope }}'))]);
      expect(broken.code).toBe(2);
      expect(broken.stderr).toContain('TEMPLATE');
    });

    it('lists, gets, and shows the history of AppSets', async () => {
      const list = await json<{ name: string; revision: number; apps: unknown[] }[]>(['appset', 'list']);
      expect(list.map((a) => a.name).sort()).toEqual(['bad-pause', 'fine', 'gated', 'web']);
      const web = await json<{ name: string; apps: { cluster: string; pendingRelease: boolean }[] }>(['appset', 'get', 'web', '--cluster', 'eu-1']);
      expect(web).toMatchObject({ name: 'web', apps: [{ cluster: 'eu-1', pendingRelease: true }] });
      expect(await json(['appset', 'history', 'web'])).toMatchObject([{ number: 1, author: 'token:bootstrap-admin' }]);
      expect(await ok(['appset', 'list', '-o', 'name'])).toContain('appset/web\n');
    });

    it('explains the parameters of each App', async () => {
      const apps = await json<{ cluster: string; explain: { sources: { element: string }[]; parameters: { cluster: { name: string } } } }[]>(['appset', 'explain', 'web', '--cluster', 'us-1']);
      expect(apps).toMatchObject([{ cluster: 'us-1', explain: { sources: [{ element: 'us-1' }], parameters: { cluster: { name: 'us-1' } } } }]);
      expect(await ok(['appset', 'explain', 'web', '--cluster', 'us-1'])).toContain('app/us-1/web');
    });

    it('generates the Apps a document would produce, for a new AppSet and a change to an existing one', async () => {
      const fresh = await json<{ appSet: string; cluster: string; app: string; parameters: { cluster: { labels: { region: string } } } }[]>(['appset', 'generate', '-f', file('fresh.yaml', appSet('fresh'))]);
      expect(fresh.map((a) => [a.appSet, a.cluster, a.app, a.parameters.cluster.labels.region])).toEqual([
        ['fresh', 'ap-1', 'fresh', 'ap'],
        ['fresh', 'eu-1', 'fresh', 'eu'],
        ['fresh', 'us-1', 'fresh', 'us'],
      ]);
      const existing = await json<{ cluster: string }[]>(['appset', 'generate', '-f', file('same-again.yaml', appSet('web'))]);
      expect(existing.map((a) => a.cluster)).toEqual(['ap-1', 'eu-1', 'us-1']);
      expect((await json<unknown[]>(['appset', 'list'])).length).toBe(4);
    });
  });

  describe('rollouts', () => {
    let succeeded: string;

    it('rollout start --wait exits 0 when the rollout succeeds, printing one line per change without a terminal', async () => {
      const result = await cli(['rollout', 'start', 'web', '--wait', '--reason', 'first release']);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      succeeded = /^rollout\/(\S+) started/.exec(lines[0]!)![1]!;
      expect(lines.at(-1)).toBe(`rollout ${succeeded} succeeded`);
      expect(lines.some((l) => l.includes(`rollout ${succeeded} SUCCEEDED: us 1/1, eu 1/1, ap 1/1`))).toBe(true);
      expect(new Set(lines).size).toBe(lines.length);
      expect(result.stdout).not.toContain('\u001b[');
    });

    it('shows a rollout and lists rollouts', async () => {
      expect(await json(['rollout', 'status', succeeded])).toMatchObject({ id: succeeded, phase: 'SUCCEEDED', startReason: 'first release', waves: [{ name: 'us' }, { name: 'eu' }, { name: 'ap' }] });
      expect((await json<{ id: string }[]>(['rollout', 'list'])).map((r) => r.id)).toContain(succeeded);
      expect(await ok(['rollout', 'status', succeeded, '--watch'])).toContain(`rollout ${succeeded} succeeded`);
    });

    it('rollout start --wait exits 1 when an agent fails the App and the rollout pauses', async () => {
      const result = await cli(['rollout', 'start', 'bad-pause', '--wait']);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/rollout \S+ paused on failures: Failure budget of wave eu breached/);
      const id = /^rollout\/(\S+) started/.exec(result.stdout)![1]!;
      const rolledBack = await json<{ phase: string }>(['rollout', 'rollback', id, '--reason', 'eu broke']);
      expect(rolledBack.phase).toMatch(/ROLLED_BACK|PROGRESSING|PAUSED/);
      expect((await cli(['rollout', 'status', id, '--watch', '--timeout', '1m'])).code).toBe(1);
      expect(await json(['rollout', 'status', id])).toMatchObject({ phase: 'ROLLED_BACK' });
    });

    it('rollout start --wait --timeout exits 3 while a wave awaits approval; approve, pause, resume and abort then act on it', async () => {
      const result = await cli(['rollout', 'start', 'gated', '--wait', '--timeout', '2s']);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('timed out after 2s waiting for rollout');
      const id = /^rollout\/(\S+) started/.exec(result.stdout)![1]!;
      expect(await ok(['rollout', 'approve', id, 'us', '--reason', 'canary looks fine'])).toContain(`rollout/${id} wave us approved`);
      expect(await json(['rollout', 'pause', id, '--reason', 'hold on'])).toMatchObject({ id, phase: 'PAUSED' });
      expect(await json(['rollout', 'resume', id])).toMatchObject({ id, phase: 'PROGRESSING' });
      expect(await json(['rollout', 'abort', id, '--reason', 'not today'])).toMatchObject({ id, phase: 'ABORTED' });
      expect(await cli(['rollout', 'status', id, '--watch'])).toMatchObject({ code: 1, stdout: expect.stringContaining(`rollout ${id} aborted`) });
    });

    it('refuses a bad --timeout and a strategy file that is not YAML, with their positions', async () => {
      expect(await cli(['rollout', 'start', 'web', '--wait', '--timeout', 'soon'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--timeout soon') });
      const path = file('strategy.yaml', 'waves: [\n');
      expect(await cli(['rollout', 'start', 'web', '--strategy-file', path])).toMatchObject({ code: 2, stderr: expect.stringMatching(new RegExp(`${path}:\\d+:\\d+: YAML_SYNTAX`)) });
    });

    it('rollout start --strategy-file overrides the strategy for that rollout', async () => {
      await ok(['appset', 'apply', '-f', file('web-yellow.yaml', appSet('web', { data: 'yellow' }))]);
      const path = file('one-wave.yaml', 'strategy:\n  waves:\n    - { name: all, selector: {}, maxConcurrency: "100%", soak: 1s }\n');
      const started = await json<{ id: string }>(['rollout', 'start', 'web', '--strategy-file', path]);
      expect(await json(['rollout', 'status', started.id])).toMatchObject({ waves: [{ name: 'all' }] });
      expect((await cli(['rollout', 'status', started.id, '--watch', '--timeout', '1m'])).code).toBe(0);
    });

    it('shows what changed between two revisions of an AppSet', async () => {
      const diff = await ok(['appset', 'history', 'web', '--diff', '1', '2']);
      expect(diff).toMatch(/^-\s+color: blue$/m);
      expect(diff).toMatch(/^\+\s+color: yellow$/m);
      expect(await cli(['appset', 'history', 'web', '--diff', '1'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--diff takes two revision numbers') });
    });

    it.runIf(process.platform === 'linux')('draws one live bar per wave in a real terminal, the current wave marked, and exits 0', async () => {
      expect(statSync(TMUX).isFile(), `${TMUX} is needed for the terminal test`).toBe(true);
      await ok(['appset', 'apply', '-f', file('web-red.yaml', appSet('web', { data: 'red' }))]);
      const session = `flotilla-cli-${process.pid}`;
      const env = `XDG_CONFIG_HOME=${join(home, 'config')} HOME=${home}`;
      const exitFile = join(files, 'tty-exit');
      execFileSync(TMUX, ['new-session', '-d', '-s', session, '-x', '120', '-y', '40', `env ${env} ${process.execPath} ${CLI} rollout start web --wait; echo $? > ${exitFile}; sleep 60`]);
      try {
        const capture = () => execFileSync(TMUX, ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
        const live = await eventually(() => {
          const screen = capture();
          return /▶ (us|eu|ap) /.test(screen) ? screen : undefined;
        }, { what: 'a live bar with the current wave marked', timeoutMs: 60_000, intervalMs: 100 });
        expect(live).toMatch(/us\s+[█░]+ \d\/1 healthy/);
        expect(live).toMatch(/eu\s+[█░]+ \d\/1 healthy/);
        expect(live).toMatch(/ap\s+[█░]+ \d\/1 healthy/);
        const done = await eventually(() => (capture().includes('succeeded') ? capture() : undefined), { what: 'the rollout to succeed on screen', timeoutMs: 60_000 });
        expect(done).toMatch(/us\s+█+ 1\/1 healthy/);
        expect(done).toMatch(/ap\s+█+ 1\/1 healthy/);
        expect(await eventually(() => readFileSync(exitFile, 'utf8').trim() || undefined, { what: 'the exit code' })).toBe('0');
      } finally {
        execFileSync(TMUX, ['kill-session', '-t', session]);
      }
    });
  });

  describe('completion', () => {
    it('prints a bash script bash accepts, completing commands', async () => {
      const script = file('completion.bash', await ok(['completion', 'bash']));
      const words = execFileSync('bash', ['-c', `source ${script}; COMP_WORDS=(flotilla rollout ''); COMP_CWORD=2; _flotilla_complete; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
      expect(words.trim().split(' ')).toEqual(expect.arrayContaining(['start', 'status', 'pause', 'resume', 'abort', 'rollback', 'approve', 'list']));
      expect(await ok(['completion', 'zsh'])).toContain('bashcompinit');
      expect(await ok(['completion', 'fish'])).toContain("complete -c flotilla -n '__fish_use_subcommand' -a 'rollout'");
      expect(await cli(['completion', 'tcsh'])).toMatchObject({ code: 2 });
    });
  });

  it('exits 2 with a usage error for an unknown command', async () => {
    const result = await cli(['clustr', 'list']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cluster');
  });
});
