import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditService } from '../src/audit/audit.service';
import { ApiTokensService } from '../src/auth/api-tokens.service';
import { Authenticator } from '../src/auth/authenticator';
import { installHttpAuthentication } from '../src/auth/http-edge';
import { Clock } from '../src/clock';
import { HUB_CONFIG, loadHubConfig, type HubConfig } from '../src/config/hub-config';
import { normaliseRepoURL } from '../src/core/gitops/repo-url';
import { hmacHex } from '../src/core/gitops/verify-webhook-signature';
import { dataSourceOptions } from '../src/database/data-source-options';
import { migrate } from '../src/database/migrate';
import { GitWebhookSecretsFile } from '../src/git-sources/git-webhook-secrets';
import { GitWebhookModule } from '../src/git-sources/git-webhook.module';
import { GIT_PUSH_TARGETS, type GitPushTargets } from '../src/git-sources/push-targets';
import { startHub, type RunningHub } from '../src/hub';
import { installCrossSiteProtection } from '../src/http/cross-site-edge';
import { Metrics } from '../src/observability/metrics';
import { ObservabilityController } from '../src/observability/observability.controller';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const GITHUB_SECRET = 'gh-webhook-secret-5d1c0f8e2a';
const GITLAB_SECRET = 'gl-webhook-token-77a0c3e9b4';
const GITEA_SECRET = 'gt-webhook-secret-0b9e61d4c2';
const SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';

/** The sources the recording targets know: two follow acme/fleet's main branch, one its tags, one another repository. */
const SOURCES = [
  { name: 'fleet-prod', project: 'platform', repo: 'github.com/acme/fleet', follows: 'refs/heads/main' },
  { name: 'fleet-edge', project: 'platform', repo: 'github.com/acme/fleet', follows: 'refs/heads/main' },
  { name: 'fleet-tags', project: 'platform', repo: 'github.com/acme/fleet', follows: 'refs/tags/' },
  { name: 'other', project: 'team-a', repo: 'gitlab.example.com/team-a/apps', follows: 'refs/heads/main' },
];

/** A GitPushTargets that answers from {@link SOURCES} and records the syncs asked for. */
class RecordingTargets implements GitPushTargets {
  readonly syncs: { name: string; cause: string }[] = [];
  lookups = 0;

  async sourcesForPush(repoURLs: readonly string[], ref: string) {
    this.lookups += 1;
    const wanted = new Set(repoURLs.map((url) => normaliseRepoURL(url)));
    return SOURCES.filter((s) => wanted.has(s.repo) && (ref === s.follows || (s.follows.endsWith('/') && ref.startsWith(s.follows)))).map(({ name, project }) => ({ name, project }));
  }

  requestSync(name: string, cause: string): void {
    this.syncs.push({ name, cause });
  }
}

/** A clock the test moves: the audit rate limits read it, so a flood is judged at one instant. */
class TestClock extends Clock {
  at = Date.parse('2026-12-06T09:00:00Z');
  override now(): Date {
    return new Date(this.at);
  }
}

const githubPush = (changes: Record<string, unknown> = {}) => ({
  ref: 'refs/heads/main',
  before: '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
  after: SHA,
  repository: { full_name: 'acme/fleet', html_url: 'https://github.com/acme/fleet', clone_url: 'https://github.com/acme/fleet.git', ssh_url: 'git@github.com:acme/fleet.git' },
  pusher: { name: 'alice', email: 'alice@example.com' },
  ...changes,
});

describe('POST /api/webhook on a real Fastify server, with the hub’s HTTP edges, audit and PostgreSQL', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let url: string;
  let dir: string;
  let secretsFile: string;
  let sql: Client;
  const targets = new RecordingTargets();
  const clock = new TestClock();

  const writeSecrets = async (secrets: Record<string, string>) => {
    await writeFile(secretsFile, Object.entries(secrets).map(([k, v]) => `${k}: "${v}"\n`).join(''));
  };

  const post = async (headers: Record<string, string>, body: string | Buffer, path = '/api/webhook') => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers, body });
    const text = await response.text();
    return { status: response.status, text, json: (text.startsWith('{') ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined, connection: response.headers.get('connection') };
  };
  const github = (body: string, secret = GITHUB_SECRET, event = 'push') => post({ 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}` }, body);
  const audits = async () =>
    (await sql.query<{ actor: string; outcome: string; reason: string; message: string; project: string | null; remote_address: string }>(`SELECT actor, outcome, reason, message, project, remote_address FROM audit_events WHERE kind = 'gitWebhook' ORDER BY id`)).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'flotilla-webhook-'));
    secretsFile = join(dir, 'secrets.yaml');
    await writeSecrets({ github: GITHUB_SECRET, gitlab: GITLAB_SECRET });
    const config: HubConfig = loadHubConfig({ DATABASE_URL: db.url, FLOTILLA_GIT_WEBHOOK_SECRETS_FILE: secretsFile, FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB: '64', FLOTILLA_LOG_LEVEL: 'error' });

    // Shaped as the hub's AppModule would wire it: a global root module whose exports the webhook module injects.
    @Module({})
    class TestApp {
      static forRoot(): DynamicModule {
        const shared = [{ provide: HUB_CONFIG, useValue: config }, { provide: Clock, useValue: clock }, { provide: GIT_PUSH_TARGETS, useValue: targets }, AuditService, Metrics];
        return {
          module: TestApp,
          global: true,
          imports: [TypeOrmModule.forRoot(dataSourceOptions(db.url, 2)), GitWebhookModule.forRoot(config.gitWebhook)],
          controllers: [ObservabilityController],
          providers: [...shared, ApiTokensService, Authenticator],
          exports: [AuditService, Metrics, Clock, GIT_PUSH_TARGETS],
        };
      }
    }

    app = await NestFactory.create<NestFastifyApplication>(TestApp.forRoot(), new FastifyAdapter({ bodyLimit: 2 * 1024 * 1024 }), { logger: false, abortOnError: false });
    await installCrossSiteProtection(app, config.crossSite);
    installHttpAuthentication(app);
    await migrate(app.get(DataSource), { lock: false });
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await app?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    targets.syncs.length = 0;
    targets.lookups = 0;
    // A new minute for every test: the audit buckets of earlier floods are full again.
    clock.at += 3_600_000;
    await sql.query(`DELETE FROM audit_events`);
    await writeSecrets({ github: GITHUB_SECRET, gitlab: GITLAB_SECRET });
  });

  it('accepts a signed GitHub push without an API token, asks each source that follows the branch for one sync, answers 202 with their number and audits it', async () => {
    const response = await github(JSON.stringify(githubPush()));
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: 'accepted', sources: 2 });
    expect(targets.syncs.map((s) => s.name).sort()).toEqual(['fleet-edge', 'fleet-prod']);
    expect(targets.syncs[0]!.cause).toContain('refs/heads/main');
    const [row] = await audits();
    expect(row).toMatchObject({ actor: 'webhook:github', outcome: 'SUCCESS', reason: '', project: 'platform', remote_address: '127.0.0.1' });
    expect(row!.message).toContain('sync requested for fleet-edge, fleet-prod');
    expect(row!.message).toContain('[delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958]');
  });

  it('verifies the bytes as sent: a body with odd spacing, key order and escapes is accepted, and the same JSON re-serialised is refused', async () => {
    const odd = `{ "after":"${SHA}" ,\n  "ref" : "refs/heads/main", "pusher": {"name": "\\u00e9lodie"},\n "repository": {"html_url": "https:\\/\\/github.com\\/acme\\/fleet"} }`;
    const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(GITHUB_SECRET, odd)}` };
    expect((await post(headers, odd)).status).toBe(202);
    expect((await post(headers, JSON.stringify(JSON.parse(odd)))).status).toBe(401);
  });

  it('refuses a forged signature 401, asks for no sync, and audits the refusal without the secret or the signature', async () => {
    const body = JSON.stringify(githubPush());
    const forged = hmacHex('attacker-guess-000000000000', body);
    const response = await post({ 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${forged}` }, body);
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } });
    expect(targets.syncs).toEqual([]);
    expect(targets.lookups).toBe(0);
    const rows = await audits();
    expect(rows).toEqual([expect.objectContaining({ actor: 'webhook:github', outcome: 'DENIED', project: null })]);
    expect(rows[0]!.reason).toMatch(/^INVALID_SIGNATURE: /);
    const written = JSON.stringify(rows) + response.text;
    expect(written).not.toContain(GITHUB_SECRET);
    expect(written).not.toContain(forged);
  });

  it.each([
    ['a push signed for another body', () => ({ body: JSON.stringify(githubPush({ ref: 'refs/heads/evil' })), signed: JSON.stringify(githubPush()) }), 401, 'INVALID_SIGNATURE'],
    ['a push without a signature', () => ({ body: JSON.stringify(githubPush()), signed: undefined }), 401, 'MISSING_SIGNATURE'],
    ['a signed body that is not JSON', () => ({ body: '{"ref": ', signed: '{"ref": ' }), 400, 'INVALID_PAYLOAD'],
  ])('refuses %s with %i %s and audits it', async (_name, make, status, code) => {
    const { body, signed } = make();
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': 'push' };
    if (signed !== undefined) headers['x-hub-signature-256'] = `sha256=${hmacHex(GITHUB_SECRET, signed)}`;
    const response = await post(headers, body);
    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ error: { code } });
    expect(targets.syncs).toEqual([]);
    expect((await audits()).map((r) => r.reason.split(':')[0])).toEqual([code]);
  });

  it('refuses 403 a Gitea push when the hub has no gitea secret, however it is signed', async () => {
    const body = JSON.stringify(githubPush());
    const response = await post({ 'content-type': 'application/json', 'x-gitea-event': 'push', 'x-gitea-signature': hmacHex(GITEA_SECRET, body) }, body);
    expect(response.status).toBe(403);
    expect(response.json).toMatchObject({ error: { code: 'NO_SECRET' } });
    expect((await audits())[0]).toMatchObject({ actor: 'webhook:gitea', outcome: 'DENIED' });
  });

  it('refuses 400 a request from no known provider, and audits it as webhook:unknown', async () => {
    const response = await post({ 'content-type': 'application/json' }, '{}');
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'UNKNOWN_PROVIDER' } });
    expect((await audits())[0]).toMatchObject({ actor: 'webhook:unknown', outcome: 'FAILED' });
  });

  it('answers a signed GitHub ping 200 and does nothing else', async () => {
    const response = await github(JSON.stringify({ zen: 'Design for failure.', hook_id: 42 }), GITHUB_SECRET, 'ping');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: 'ok' });
    expect(targets.lookups).toBe(0);
    expect(await audits()).toEqual([]);
  });

  it('answers a signed event that is not a push 200 "ignored" and does nothing else', async () => {
    const response = await github(JSON.stringify({ action: 'opened' }), GITHUB_SECRET, 'pull_request');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: 'ignored' });
    expect(targets.lookups).toBe(0);
  });

  it('accepts a GitLab tag push verified by its token, for the source that follows tags', async () => {
    const body = JSON.stringify({
      object_kind: 'tag_push',
      ref: 'refs/tags/v1.4.0',
      after: SHA,
      user_username: 'bob',
      project: { web_url: 'https://github.com/acme/fleet', git_ssh_url: 'git@github.com:acme/fleet.git' },
    });
    const response = await post({ 'content-type': 'application/json', 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': GITLAB_SECRET }, body);
    expect(response.status).toBe(202);
    expect(targets.syncs.map((s) => s.name)).toEqual(['fleet-tags']);
  });

  it('accepts a GitHub push sent form-encoded (the body is read whatever its media type)', async () => {
    const body = `payload=${encodeURIComponent(JSON.stringify(githubPush()))}`;
    const response = await post({ 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(GITHUB_SECRET, body)}` }, body);
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: 'accepted', sources: 2 });
  });

  it('accepts a push that no source follows with 202 and 0 sources', async () => {
    const response = await github(JSON.stringify(githubPush({ ref: 'refs/heads/feature-x' })));
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: 'accepted', sources: 0 });
    expect(targets.syncs).toEqual([]);
    expect((await audits())[0]!.message).toContain('no Git source follows it');
  });

  it('refuses 413 a body over FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB, announced or streamed without a length, closes the connection, and audits it', async () => {
    const big = JSON.stringify(githubPush({ padding: 'x'.repeat(70 * 1024) }));
    const announced = await github(big);
    expect(announced.status).toBe(413);
    expect(announced.json).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(announced.connection).toBe('close');

    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/api/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(GITHUB_SECRET, big)}`, 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 8 * 1024) req.write(big.slice(i, i + 8 * 1024));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(targets.syncs).toEqual([]);
    expect((await audits()).map((r) => r.reason.split(':')[0])).toEqual(['PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE']);
  });

  it('audits a flood of forged deliveries from one address at most 20 rows at once, counts all of them, and says how many it left out', async () => {
    const body = JSON.stringify(githubPush());
    const statuses: number[] = [];
    for (let i = 0; i < 120; i += 1) statuses.push((await github(body, `forged-secret-${i}-0000000000`)).status);
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(await audits()).toHaveLength(20);
    expect(targets.lookups).toBe(0);

    clock.at += 1_000;
    await github(body, 'forged-secret-last-000000000');
    const rows = await audits();
    expect(rows).toHaveLength(21);
    expect(rows[20]!.message).toContain('(100 earlier deliveries from this address were not audited: over the audit rate)');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith('flotilla_git_webhook_deliveries_total{provider="github",outcome="invalid_signature"}'));
    expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(121);
  });

  it('picks up a rotated secrets file without a restart, and refuses every delivery 503 while the file is broken', async () => {
    const body = JSON.stringify(githubPush());
    await writeSecrets({ github: 'rotated-github-secret-9f8e7d6c' });
    expect((await github(body)).status).toBe(401);
    expect((await github(body, 'rotated-github-secret-9f8e7d6c')).status).toBe(202);

    await writeFile(secretsFile, 'github: |\n  rotated-github-secret-9f8e7d6c\n');
    const broken = await github(body, 'rotated-github-secret-9f8e7d6c');
    expect(broken.status).toBe(503);
    expect(broken.json).toMatchObject({ error: { code: 'SECRETS_UNAVAILABLE' } });
    expect(broken.text).not.toContain('rotated-github-secret');

    await writeSecrets({ github: GITHUB_SECRET });
    expect((await github(body)).status).toBe(202);
    expect((await audits()).map((r) => r.outcome)).toEqual(['DENIED', 'SUCCESS', 'FAILED', 'SUCCESS']);
  });

  it('lets only POST /api/webhook through without a token: other paths and methods still need one', async () => {
    expect((await post({ 'content-type': 'application/json' }, '{}', '/api/webhooks')).status).toBe(401);
    expect((await post({ 'content-type': 'application/json' }, '{}', '/api/webhook/../graphql')).status).toBe(401);
    expect((await fetch(`${url}/api/webhook`)).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('keeps the cross-site edge in front of the webhook: a browser page on another origin is refused before the body is read', async () => {
    const body = JSON.stringify(githubPush());
    const response = await post({ 'content-type': 'application/json', origin: 'https://evil.example.com', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(GITHUB_SECRET, body)}` }, body);
    expect(response.status).toBe(403);
    expect(targets.lookups).toBe(0);
  });
});

describe('the webhook secrets file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-webhook-secrets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives no secrets without a file: every delivery is then refused 403', async () => {
    await expect(new GitWebhookSecretsFile(undefined).current()).resolves.toEqual({});
  });

  it.each([
    ['missing', undefined, 'cannot be read: ENOENT'],
    ['an unknown key and a secret with a trailing newline', 'svn: "0123456789abcdef0"\ngithub: |\n  0123456789abcdef-secret\n', 'unknown key "svn"'],
  ])('refuses a file that is %s with an error naming the file and the problem, not the secret', async (_name, text, problem) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    if (text !== undefined) await writeFile(path, text);
    const error = await new GitWebhookSecretsFile(path).current().then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toContain(path);
    expect(error?.message).toContain(problem);
    expect(error?.message).not.toContain('0123456789abcdef');
  });
});

describe('the webhook in the whole hub', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'flotilla-webhook-hub-'));
    await writeFile(join(dir, 'secrets.json'), JSON.stringify({ github: GITHUB_SECRET }));
    hub = await startHub(
      loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN, FLOTILLA_GIT_WEBHOOK_SECRETS_FILE: join(dir, 'secrets.json') }),
    );
    base = hub.graphqlUrl.replace(/\/graphql$/, '');
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts a signed push without a token and refuses a forged one, while GraphQL still wants a token', async () => {
    const body = JSON.stringify(githubPush());
    const send = (secret: string) => fetch(`${base}/api/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}` }, body });
    const accepted = await send(GITHUB_SECRET);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ status: 'accepted', sources: 0 });
    expect((await send('forged-secret-000000000000')).status).toBe(401);

    expect((await fetch(hub.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ clusters { name } }' }) })).status).toBe(401);
    const gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    const audit = await gql<{ auditEvents: { nodes: { actor: string; outcome: string }[] } }>(`{ auditEvents(filter: { kind: "gitWebhook" }, first: 10) { nodes { actor outcome } } }`);
    expect(audit.data?.auditEvents.nodes).toEqual([
      { actor: 'webhook:github', outcome: 'DENIED' },
      { actor: 'webhook:github', outcome: 'SUCCESS' },
    ]);
  });
});
