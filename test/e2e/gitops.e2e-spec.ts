import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { GitDaemon, type GitWorkspace } from '../harness/git-daemon.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

// GitOps end to end: two hub replicas on one database, sim agents in two regions, and the fleet's
// AppSets in a repository served by `git daemon` on loopback. A push (announced by a signed GitHub
// webhook) rolls out by itself in waves; a broken document applies nothing; a revert rolls back; a
// forged webhook, a flood of pushes, a force-push to an old commit and an unsigned commit where
// signatures are required are handled as RELIABILITY.md row 25 says: refused and audited, floods
// coalesced, nothing applied that the rules refuse.

const SECRET = 'gitops-e2e-webhook-secret-0123456789';
const CLUSTERS = [
  ['gitops-eu-1', 'eu'],
  ['gitops-eu-2', 'eu'],
  ['gitops-us-1', 'us'],
] as const;

const shop = (color: string) => `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: shop
spec:
  generators:
    - clusters: { selector: { matchLabels: { fleet: gitops } } }
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: shop }
        data: { color: ${color}, cluster: "{{ cluster.name }}" }
  strategy:
    trigger: auto
    byLabel: { label: region, order: [eu, us], maxConcurrency: 1, soak: 0s }
`;

interface RolloutView {
  id: string;
  phase: string;
  appSetRevision: number;
  trigger: string;
  startReason: string;
  waves: { name: string }[];
}

interface SourceView {
  lastSeenCommit: string | null;
  lastAppliedCommit: string | null;
  lastError: string;
  issues: { code: string; file: string | null; line: number | null; message: string }[];
}

describe('GitOps: a merged commit rolls out by itself, a revert rolls it back', () => {
  let db: TestDatabase;
  const hubs: HubProcess[] = [];
  const agents: ManagedProcess[] = [];
  let daemon: GitDaemon;
  let repo: GitWorkspace;
  let api: ReturnType<typeof graphqlClient>;
  let scratch: string;

  const rollouts = async () =>
    (await api.must<{ appSet: { rollouts: RolloutView[] } }>(`{ appSet(name: "shop") { rollouts { id phase appSetRevision trigger startReason waves { name } } } }`)).appSet.rollouts;
  const source = async () => (await api.must<{ gitSource: SourceView }>(`{ gitSource(name: "fleet") { lastSeenCommit lastAppliedCommit lastError issues { code file line message } } }`)).gitSource;
  const colors = async () => {
    const { appSet } = await api.must<{ appSet: { revision: number; apps: { cluster: string; health: string; revision: string | null; stagedRevision: string | null }[] } }>(
      `{ appSet(name: "shop") { revision apps { cluster health revision stagedRevision } } }`,
    );
    return appSet;
  };
  const webhook = async (hub: HubProcess, body: string, signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`) =>
    fetch(hub.graphqlUrl.replace('/graphql', '/api/webhook'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': String(Math.random()), 'x-hub-signature-256': signature },
      body,
    });
  const syncsSoFar = async () => {
    let total = 0;
    for (const hub of hubs) {
      const text = await (await fetch(hub.graphqlUrl.replace('/graphql', '/metrics'))).text();
      for (const [, count] of text.matchAll(/^flotilla_git_source_sync_seconds_count\{[^}]*source="fleet"[^}]*\} (\d+)/gm)) total += Number(count);
    }
    return total;
  };
  const push = (after: string) => JSON.stringify({ ref: 'refs/heads/main', after, repository: { clone_url: repo.url, html_url: repo.url }, pusher: { name: 'fleet-bot' } });
  const settled = async (count: number) =>
    eventually(
      async () => {
        const all = await rollouts().catch(async (error: unknown) => {
          throw new Error(`${String(error)}; the source: ${JSON.stringify(await source())}`);
        });
        return all.length >= count && all.every((r) => r.phase !== 'PROGRESSING' && r.phase !== 'PAUSED') ? all : undefined;
      },
      { what: `${count} rollouts of shop to finish`, timeoutMs: 60_000 },
    );

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-gitops-e2e-'));
    const secrets = join(scratch, 'webhook-secrets.yaml');
    writeFileSync(secrets, `github: ${SECRET}\n`, { mode: 0o600 });
    daemon = await GitDaemon.start();
    repo = daemon.createRepository('fleet');
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      // A long poll interval: what moves a source in this test is the webhook.
      hubs.push(await startHub({ databaseUrl: db.url, env: { FLOTILLA_GIT_WEBHOOK_SECRETS_FILE: secrets, FLOTILLA_REPLICA_ID: `gitops-${i}` } }));
    }
    api = graphqlClient(hubs[0]!.graphqlUrl, hubs[0]!.adminToken);
    for (const [index, [name, region]] of CLUSTERS.entries()) {
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`,
        { n: name, l: { region, fleet: 'gitops' } },
      );
      const hub = hubs[index % 2]!;
      agents.push(startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: name, bootstrapToken: registerCluster.bootstrapToken }));
    }
    await eventually(async () => (await api.must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.filter((c) => c.connected).length === CLUSTERS.length, {
      what: 'three agents connected',
      timeoutMs: 60_000,
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    for (const hub of hubs) await hub.stop();
    await daemon?.stop();
    await db?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  let first: string;
  let green: string;
  let broken: string;

  it('applies the repository when the source is added, and the AppSet rolls out by itself, naming the commit', async () => {
    first = repo.commit({ 'clusters/shop.yaml': shop('blue'), 'README.md': '# fleet\n' }, 'shop: blue everywhere');
    const { addGitSource } = await api.must<{ addGitSource: { issues: unknown[] } }>(
      `mutation($r: String!) { addGitSource(input: { name: "fleet", repoURL: $r, revision: "main", path: "clusters", interval: "1h" }) { issues { code message } } }`,
      { r: repo.url },
    );
    expect(addGitSource.issues).toEqual([]);
    const [rollout] = await settled(1);
    expect(rollout).toMatchObject({ phase: 'SUCCEEDED', trigger: 'AUTO', appSetRevision: 1 });
    expect(rollout!.startReason).toContain(first);
    expect((await source()).lastAppliedCommit).toBe(first);
  });

  it('rolls a pushed change out in waves, eu before us, when a signed webhook announces it', async () => {
    green = repo.commit({ 'clusters/shop.yaml': shop('green') }, 'shop: green');
    const res = await webhook(hubs[1]!, push(green));
    expect(res.status).toBe(202);
    const all = await settled(2);
    const latest = all.find((r) => r.appSetRevision === 2)!;
    expect(latest).toMatchObject({ phase: 'SUCCEEDED', trigger: 'AUTO' });
    expect(latest.waves.map((w) => w.name)).toEqual(['eu', 'us']);
    expect(latest.startReason).toContain(green);
    const appSet = await colors();
    expect(appSet.revision).toBe(2);
    expect(appSet.apps.every((a) => a.revision === a.stagedRevision && a.health === 'HEALTHY')).toBe(true);
  });

  it('applies nothing from a commit with a broken document and shows the file and line; no rollout starts', async () => {
    const before = (await rollouts()).length;
    broken = repo.commit({ 'clusters/shop.yaml': shop('red').replace('clusters: { selector', 'clusters: { selectr') }, 'shop: red (typo)');
    expect((await webhook(hubs[0]!, push(broken))).status).toBe(202);
    const status = await eventually(async () => {
      const s = await source();
      return s.lastSeenCommit === broken && s.issues.length > 0 ? s : undefined;
    }, { what: 'the broken commit to be refused' });
    expect(status.issues[0]).toMatchObject({ file: 'clusters/shop.yaml', line: expect.any(Number) });
    expect(status.lastAppliedCommit).not.toBe(broken);
    expect((await colors()).revision).toBe(2);
    expect(await rollouts()).toHaveLength(before);
  });

  it('rolls back with a revert commit: the older content is staged again and rolls out by itself', async () => {
    // Revert the typo and the change before it: the content is blue again.
    repo.git('revert', '--no-edit', broken, green);
    const reverted = repo.push();
    expect((await webhook(hubs[0]!, push(reverted))).status).toBe(202);
    const all = await settled(3);
    const latest = all.find((r) => r.appSetRevision === 3)!;
    expect(latest).toMatchObject({ phase: 'SUCCEEDED', trigger: 'AUTO' });
    const { appSet } = await api.must<{ appSet: { revisions: { number: number; contentHash: string; commit: { sha: string } | null }[] } }>(`{ appSet(name: "shop") { revisions { number contentHash commit { sha } } } }`);
    const [third, , firstRevision] = appSet.revisions;
    expect(third).toMatchObject({ number: 3, commit: { sha: reverted } });
    expect(third!.contentHash).toBe(firstRevision!.contentHash);
  });

  it('refuses and audits a webhook with a forged signature, and applies nothing for it', async () => {
    const before = await source();
    const res = await webhook(hubs[1]!, push('f'.repeat(40)), `sha256=${createHmac('sha256', 'not-the-secret-at-all-000').update('x').digest('hex')}`);
    expect(res.status).toBe(401);
    const { auditEvents } = await api.must<{ auditEvents: { nodes: { actor: string; outcome: string }[] } }>(`{ auditEvents(filter: { kind: "gitWebhook" }, first: 20) { nodes { actor outcome } } }`);
    expect(auditEvents.nodes.some((n) => n.outcome === 'DENIED')).toBe(true);
    expect((await source()).lastAppliedCommit).toBe(before.lastAppliedCommit);
  });

  it('coalesces a flood of pushes into a few syncs, and the two replicas never apply one commit twice', async () => {
    const purple = repo.commit({ 'clusters/shop.yaml': shop('purple') }, 'shop: purple');
    const syncsBefore = await syncsSoFar();
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => webhook(hubs[i % 2]!, push(purple))));
    expect(responses.every((r) => r.status === 202)).toBe(true);
    const all = await settled(4);
    expect(all.filter((r) => r.appSetRevision === 4)).toHaveLength(1);
    const { appSet } = await api.must<{ appSet: { revisions: { commit: { sha: string } | null }[] } }>(`{ appSet(name: "shop") { revisions { commit { sha } } } }`);
    expect(appSet.revisions.filter((r) => r.commit?.sha === purple)).toHaveLength(1);
    // 40 deliveries, a handful of syncs: requests made before a sync starts are one.
    const syncs = (await syncsSoFar()) - syncsBefore;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(8);
  });

  it('refuses a force-push to an old commit and audits it; nothing is applied until an operator accepts it', async () => {
    const before = await source();
    repo.git('reset', '-q', '--hard', first);
    const rewound = repo.push(true);
    expect((await webhook(hubs[0]!, push(rewound))).status).toBe(202);
    const status = await eventually(async () => {
      const s = await source();
      return s.lastSeenCommit === rewound && s.issues.length > 0 ? s : undefined;
    }, { what: 'the force-push to be refused' });
    expect(status.issues.map((i) => i.code)).toEqual(['HISTORY_REWRITTEN']);
    expect(status.lastAppliedCommit).toBe(before.lastAppliedCommit);
    const { auditEvents } = await api.must<{ auditEvents: { nodes: { actor: string; outcome: string; reason: string }[] } }>(`{ auditEvents(filter: { kind: "gitSourceSync" }, first: 5) { nodes { actor outcome reason } } }`);
    expect(auditEvents.nodes[0]).toMatchObject({ actor: 'git:fleet', outcome: 'DENIED' });
  });
  it('applies only commits signed by a listed key once the source requires it: an unsigned commit is refused and audited', async () => {
    // Accept the rewound history first, so that the source is in a known state.
    await api.must(`mutation { syncGitSource(name: "fleet", acceptHistoryRewrite: true) { lastAppliedCommit } }`);
    const key = join(scratch, 'signing-key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleet-bot', '-f', key]);
    const publicKey = readFileSync(`${key}.pub`, 'utf8').trim();
    const { updateGitSource } = await api.must<{ updateGitSource: { issues: unknown[] } }>(`mutation($k: [String!]) { updateGitSource(input: { name: "fleet", requireSignedBy: $k }) { issues { code message } } }`, { k: [publicKey] });
    expect(updateGitSource.issues).toEqual([]);

    const unsigned = repo.commit({ 'clusters/shop.yaml': shop('orange') }, 'shop: orange, unsigned');
    expect((await webhook(hubs[0]!, push(unsigned))).status).toBe(202);
    const refused = await eventually(async () => {
      const s = await source();
      return s.lastSeenCommit === unsigned && s.issues.length > 0 ? s : undefined;
    }, { what: 'the unsigned commit to be refused' });
    expect(refused.issues.map((i) => i.code)).toEqual(['COMMIT_NOT_SIGNED']);
    expect(refused.lastAppliedCommit).not.toBe(unsigned);
    const { auditEvents } = await api.must<{ auditEvents: { nodes: { outcome: string; message: string }[] } }>(`{ auditEvents(filter: { kind: "gitSourceSync" }, first: 5) { nodes { outcome message } } }`);
    expect(auditEvents.nodes[0]).toMatchObject({ outcome: 'DENIED', message: `refused ${unsigned}` });

    const signed = repo.commit({ 'clusters/shop.yaml': shop('teal') }, 'shop: teal, signed', key);
    expect((await webhook(hubs[1]!, push(signed))).status).toBe(202);
    await eventually(async () => (await source()).lastAppliedCommit === signed, { what: 'the signed commit to be applied' });
  });
});
