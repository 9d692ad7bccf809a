import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer, type KubeObject } from '../../agent/test/kube-api-server/index.js';
import { bearer } from '../harness/auth.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { freePort } from '../harness/ports.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

// RELIABILITY row 15: secret values never appear in the hub's database, its GraphQL responses, its logs
// or its error messages. A hub and one agent with the Kubernetes driver (against the Kubernetes API test
// server) as real processes. A canary value goes through every path the hub supports: a parameter
// marked secret, a secret reference that the agent resolves from a Secret in its cluster, a Secret
// manifest in a preview, a Git URL with the canary as its password. Then every table of the database,
// the hub's whole log and every GraphQL response of the run are searched for it.
//
// A second canary is stored on purpose (spec.secrets.allowInline: true): it must be in the database,
// which shows the search finds what is there, and still never in a response or the log.

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KUBECTL = join(ROOT, '.tools/bin/kubectl');
const CANARY = `canary-${randomBytes(12).toString('hex')}`;
const INLINE_CANARY = `inline-canary-${randomBytes(12).toString('hex')}`;
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const CLUSTER = 'vault-eu';
const MARKER = /<redacted:hmac:[0-9a-f]{8}>/;

const STRATEGY = `  strategy:
    byLabel: { label: region, order: [eu], maxConcurrency: "100%", maxFailures: 0, soak: 1s, progressDeadline: 1m }`;

/** The recommended path: a marked parameter holding a reference, a Secret and a ConfigMap built from references. */
const referencedYaml = (replicas: number) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: payments }
spec:
  secrets:
    parameters: [dbPassword]
  generators:
    - list:
        elements:
          - { cluster: ${CLUSTER}, dbPassword: "((secret:shop/db-source/password))", replicas: "${replicas}" }
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: Secret
        metadata: { name: payments-db }
        type: Opaque
        data: { password: "((secret:shop/db-source/password))" }
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: payments-config }
        data:
          url: "postgres://payments:{{ dbPassword }}@db.shop:5432/payments"
          replicas: "{{ replicas }}"
  syncPolicy:
    mode: sync
    scope: { namespaces: [shop], clusterScoped: false }
${STRATEGY}`;

/** A parameter marked secret with a literal value: refused unless allowInline. */
const markedLiteralYaml = (allowInline: boolean, value: string, name = 'marked') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  secrets: { parameters: [apiKey], allowInline: ${allowInline} }
  generators:
    - list: { elements: [{ cluster: ${CLUSTER}, apiKey: "${value}" }] }
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name}-config }
        data: { endpoint: "https://api.example.com/?key={{ apiKey }}" }
  syncPolicy:
    scope: { namespaces: [shop], clusterScoped: false }`;

/** A Secret manifest with literal data: refused unless allowInline. */
const inlineSecretYaml = (allowInline: boolean, value: string, name = 'inline') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  secrets: { allowInline: ${allowInline} }
  generators:
    - list: { elements: [{ cluster: ${CLUSTER} }] }
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: Secret
        metadata: { name: ${name}-creds }
        stringData: { token: "${value}" }
  syncPolicy:
    scope: { namespaces: [shop], clusterScoped: false }`;

/** A Git generator whose URL carries the canary as its password; nothing listens on the port. */
const gitYaml = (port: number, name = 'payments') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - git:
        repoURL: "https://deploy-bot:${CANARY}@127.0.0.1:${port}/fleet.git"
        files: [{ path: "clusters/*.yaml" }]
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: from-git }
        data: { a: b }`;

interface Issue {
  code: string;
  path: string;
  message: string;
}

describe('secrets never leak: a canary through every path, then the database, the log and every response searched', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let agent: ManagedProcess;
  let server: KubeApiTestServer;
  let home: string;
  let kubeconfig: string;
  let closedPort: number;
  const hubLog: string[] = [];
  const responses: string[] = [];

  /** GraphQL as the admin, keeping every response body as it came over the wire. */
  async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
    const response = await fetch(hub.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: bearer(hub.adminToken) },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    responses.push(text);
    return JSON.parse(text) as { data?: T; errors?: { message: string }[] };
  }
  async function must<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await gql<T>(query, variables);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  }

  const kubectl = (...args: string[]) =>
    new Promise<string>((done, fail) => {
      execFile(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: home, KUBECACHEDIR: join(home, 'cache') }, timeout: 30_000 }, (error, stdout, stderr) =>
        error === null ? done(stdout) : fail(new Error(`kubectl ${args[0]} failed: ${stderr}`)),
      );
    });

  const apply = async (yaml: string, force = false) =>
    (await must<{ applyAppSet: { issues: Issue[]; appSet: { revision: number } | null } }>(
      `mutation($y: String!, $f: Boolean) { applyAppSet(yaml: $y, force: $f) { issues { code path message } appSet { revision } } }`,
      { y: yaml, f: force },
    )).applyAppSet;
  const preview = async (yaml: string) =>
    (await must<{ previewAppSet: { issues: Issue[]; clusters: { cluster: string; added: { diff: string; explain: { parameters: Record<string, unknown> } | null }[]; changed: { diff: string }[] }[] } }>(
      `query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } clusters { cluster added { app diff explain { parameters } } changed { app diff } removed { app diff } } } }`,
      { y: yaml },
    )).previewAppSet;
  const appView = async (appSet: string) =>
    (await must<{ appSet: { condition: string; apps: { name: string; health: string; message: string | null; revision: string | null; stagedRevision: string | null; explain: unknown; resources: { kind: string; message: string }[] }[] } }>(
      `query($n: String!) { appSet(name: $n) { condition apps { name health message revision stagedRevision explain { parameters sources { generator element } } resources { kind name health message } } } }`,
      { n: appSet },
    )).appSet;

  const rollOut = async (appSet: string) => {
    const { startRollout } = await must<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: appSet });
    return eventually(
      async () => {
        const { rollout } = await must<{ rollout: { phase: string; reason: string } }>(`query($id: ID!) { rollout(id: $id) { phase reason events { kind message } } }`, { id: startRollout.id });
        if (rollout.phase === 'PAUSED' || rollout.phase === 'ROLLED_BACK' || rollout.phase === 'ABORTED') throw new Error(`rollout ${rollout.phase}: ${rollout.reason}\n${agent.tail(20)}`);
        return rollout.phase === 'SUCCEEDED' ? rollout : undefined;
      },
      { what: `the rollout of ${appSet} to succeed`, timeoutMs: 90_000 },
    );
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'flotilla-secrets-e2e-'));
    kubeconfig = join(home, 'kubeconfig');
    closedPort = await freePort();
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url, env: { FLOTILLA_LOG_LEVEL: 'debug' } });
    // The harness keeps only the last lines: this test keeps all of them, from the start.
    hubLog.push(...hub.output);
    const keep = (chunk: Buffer) => hubLog.push(chunk.toString('utf8'));
    hub.child.stdout?.on('data', keep);
    hub.child.stderr?.on('data', keep);

    server = await KubeApiTestServer.start();
    await server.writeKubeconfig(kubeconfig);
    // The Secret the Apps reference, made in the cluster as External Secrets or a person would.
    const seed = join(home, 'seed.json');
    await writeFile(seed, JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-source', namespace: 'shop' }, type: 'Opaque', data: { password: b64(CANARY) } },
      ],
    }));
    await kubectl('apply', '--server-side', '--validate=false', '-f', seed);
    await rm(seed);

    const { registerCluster } = await must<{ registerCluster: { bootstrapToken: string } }>(
      `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
      { name: CLUSTER, labels: { region: 'eu' } },
    );
    agent = startAgent({
      hubAddress: hub.grpcAddress,
      hubCa: hub.caBundle,
      cluster: CLUSTER,
      bootstrapToken: registerCluster.bootstrapToken,
      env: { FLOTILLA_DRIVER: 'kube', FLOTILLA_KUBECONFIG: kubeconfig },
    });
    await eventually(async () => (await must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.some((c) => c.connected), {
      what: `the agent connected\n${agent.tail(20)}`,
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
    await server?.close();
    await db?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('refuses a parameter marked secret with a literal value, without echoing it, and shows its preview redacted when inline values are allowed', async () => {
    const refused = await preview(markedLiteralYaml(false, CANARY));
    expect(refused.issues.map((i) => i.code)).toEqual(['INLINE_SECRET']);
    expect(refused.issues[0]!.message).toContain('Parameter apiKey is marked secret');

    const applied = await apply(markedLiteralYaml(false, CANARY));
    expect(applied.appSet).toBeNull();
    expect(applied.issues.map((i) => i.code)).toEqual(['INLINE_SECRET']);

    const shown = await preview(markedLiteralYaml(true, CANARY));
    expect(shown.issues).toEqual([]);
    const added = shown.clusters[0]!.added[0]!;
    expect(added.diff).toMatch(new RegExp(`endpoint: https://api.example.com/\\?key=${MARKER.source}`));
    expect(added.explain?.parameters['apiKey']).toBe('[redacted]');
  });

  it('refuses a Secret manifest with literal data, and shows it redacted in a preview when inline values are allowed', async () => {
    const refused = await preview(inlineSecretYaml(false, CANARY));
    expect(refused.issues).toEqual([expect.objectContaining({ code: 'INLINE_SECRET', message: expect.stringContaining('Secret inline-creds holds a literal value at stringData.token') })]);
    expect((await apply(inlineSecretYaml(false, CANARY))).issues.map((i) => i.code)).toEqual(['INLINE_SECRET']);

    const shown = await preview(inlineSecretYaml(true, CANARY));
    expect(shown.clusters[0]!.added[0]!.diff).toMatch(new RegExp(`token: ${MARKER.source}`));
  });

  it('rolls out Apps whose secrets are references: the agent puts the value from its cluster in place, the hub shows only the reference', async () => {
    expect((await apply(referencedYaml(1))).issues).toEqual([]);
    await rollOut('payments');

    const secret = server.getObject({ apiVersion: 'v1', kind: 'Secret', namespace: 'shop', name: 'payments-db' }) as KubeObject & { data?: Record<string, string> };
    expect(secret.data?.['password']).toBe(b64(CANARY));
    const config = server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'payments-config' }) as KubeObject & { data?: Record<string, string> };
    expect(config.data?.['url']).toBe(`postgres://payments:${CANARY}@db.shop:5432/payments`);

    const view = await eventually(async () => {
      const appSet = await appView('payments');
      return appSet.apps[0]?.health === 'HEALTHY' ? appSet : undefined;
    }, { what: `payments HEALTHY\n${agent.tail(20)}` });
    // A reference is not secret: explain shows it as written, even under a password-like key; nothing resolved comes back.
    expect(view.apps[0]!.explain).toMatchObject({ parameters: { dbPassword: '((secret:shop/db-source/password))', replicas: '1' } });
    expect(view.apps[0]!.resources.map((r) => r.kind).sort()).toEqual(['ConfigMap', 'Secret']);

    const { appSet } = await must<{ appSet: { revisions: { number: number; yaml: string }[] } }>(`{ appSet(name: "payments") { revisions { number yaml } } }`);
    expect(appSet.revisions[0]!.yaml).toContain('((secret:shop/db-source/password))');

    // A second revision, its diff and a second rollout.
    expect((await apply(referencedYaml(2))).issues).toEqual([]);
    const diff = (await must<{ appSetRevisionDiff: string }>(`{ appSetRevisionDiff(appSet: "payments", from: 1, to: 2) }`)).appSetRevisionDiff;
    expect(diff).toMatch(/^\+\s+replicas: "2"$/m);
    expect(diff).toContain('dbPassword: ((secret:shop/db-source/password))');
    await rollOut('payments');
    await eventually(async () => (server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'payments-config' }) as { data?: Record<string, string> }).data?.['replicas'] === '2', {
      what: 'the second revision applied',
    });
  });

  it('fails an App whose reference names a missing key with a message that names the reference and no value', async () => {
    const yaml = referencedYaml(3).replace('data: { password: "((secret:shop/db-source/password))" }', 'data: { password: "((secret:shop/db-source/no-such-key))" }');
    expect((await apply(yaml)).issues).toEqual([]);
    const { startRollout } = await must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "payments") { id } }`);
    const failed = await eventually(async () => {
      const app = (await appView('payments')).apps[0];
      return app?.message?.includes('no-such-key') ? app : undefined;
    }, { what: `the App failing on the missing key\n${agent.tail(20)}` });
    expect(failed.message).toContain('secret reference ((secret:shop/db-source/no-such-key)): Secret shop/db-source has no key "no-such-key"');
    await must(`mutation($id: ID!) { abortRollout(id: $id, reason: "missing key") { id } }`, { id: startRollout.id });
  });

  it('keeps a Git URL password out of the issues of a preview and of a refused apply of a stored AppSet', async () => {
    const previewed = await preview(gitYaml(closedPort));
    expect(previewed.issues.length).toBeGreaterThan(0);
    const applied = await apply(gitYaml(closedPort));
    expect(applied.appSet).toBeNull();
    // The refusal is about the Git generator (the URL was tried), and the stored AppSet keeps its Apps.
    expect(applied.issues.map((i) => i.path)).toEqual(expect.arrayContaining([expect.stringMatching(/^spec\.generators\[0\]/)]));
    expect((await appView('payments')).apps.length).toBe(1);
  });

  it('stores a value allowed inline, and still never shows it: revisions, diffs, previews, explain', async () => {
    expect((await apply(markedLiteralYaml(true, INLINE_CANARY, 'legacy'))).issues).toEqual([]);
    expect((await apply(inlineSecretYaml(true, `${INLINE_CANARY}-token`, 'legacy-secret'))).issues).toEqual([]);
    expect((await apply(markedLiteralYaml(true, `${INLINE_CANARY}-v2`, 'legacy'))).issues).toEqual([]);
    expect((await apply(inlineSecretYaml(true, `${INLINE_CANARY}-token-v2`, 'legacy-secret'))).issues).toEqual([]);

    const diff = (await must<{ appSetRevisionDiff: string }>(`{ appSetRevisionDiff(appSet: "legacy-secret", from: 1, to: 2) }`)).appSetRevisionDiff;
    const lines = diff.split('\n').filter((line) => /^[-+]\s/.test(line));
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => MARKER.test(line))).toBe(true);
    expect(lines[0]).not.toBe(lines[1]!.replace(/^\+/, '-'));

    await must(`{ a: appSet(name: "legacy") { revisions { yaml } apps { explain { parameters } } } b: appSet(name: "legacy-secret") { revisions { yaml } } }`);
    const changed = await preview(markedLiteralYaml(true, `${INLINE_CANARY}-v3`, 'legacy'));
    expect(changed.clusters[0]!.changed[0]!.diff).toMatch(MARKER);
    await preview(inlineSecretYaml(true, `${INLINE_CANARY}-token-v3`, 'legacy-secret'));
  });

  it('leaves the canary nowhere on the hub: no table, no log line, no GraphQL response', async () => {
    await must(`{ appSets { name condition revisions { yaml } apps { name message explain { parameters } resources { message } } } auditEvents(first: 500) { nodes { kind message reason } } }`);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const tables = (await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)).rows.map((r) => r.table_name);
    const rows: string[] = [];
    for (const table of tables) rows.push(...(await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`)).rows.map((r) => `${table}: ${r.row}`));
    await client.end();
    expect(tables).toEqual(expect.arrayContaining(['app_set_revisions', 'apps', 'manifest_bundles', 'outbox', 'app_sets', 'audit_events']));

    const where = (needle: string) => ({
      database: rows.filter((row) => row.includes(needle)).map((row) => row.slice(0, 200)),
      log: hubLog.join('').split('\n').filter((line) => line.includes(needle)),
      responses: responses.filter((body) => body.includes(needle)).map((body) => body.slice(0, 200)),
    });
    for (const needle of [CANARY, b64(CANARY)]) expect(where(needle), needle).toEqual({ database: [], log: [], responses: [] });

    // The value stored on purpose is found in the database (the search works), and only there.
    const inline = where(INLINE_CANARY);
    expect(inline.database.length).toBeGreaterThan(0);
    expect({ log: inline.log, responses: inline.responses }).toEqual({ log: [], responses: [] });
    expect(responses.length).toBeGreaterThan(20);
    expect(hubLog.join('')).toContain(`agent ${CLUSTER} connected`);
  });
});
