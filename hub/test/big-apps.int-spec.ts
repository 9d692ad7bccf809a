import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sha256Hex } from '@flotilla/proto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub';
import { appSetClient, registerClusters } from './support/app-set-client';
import { commit, git } from './support/git-repo';
import { startTestHub, type Gql } from './support/test-hub';
import type { TestDatabase } from './support/test-database';

/** Bytes of data per ConfigMap file: under the 1 MiB cap of one Git file. */
const FILE_DATA_BYTES = 900_000;

/** `count` ConfigMap files of about {@link FILE_DATA_BYTES} each, varied so that they are not trivially compressible. */
function configMaps(dir: string, count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    let text = '';
    for (let line = 0; text.length < FILE_DATA_BYTES; line++) text += `${dir}-${i}-${line}-${sha256Hex(`${dir}/${i}/${line}`)}\n`;
    files[`${dir}/cm-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${dir}-${i} }\ndata:\n  blob: ${JSON.stringify(text.slice(0, FILE_DATA_BYTES))}\n`;
  }
  return files;
}

const appSetYaml = (name: string, repo: string, path: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - clusters: {}
  template:
    namespace: ${name}
    source: { repoURL: ${repo}, revision: main, path: ${path} }
`;

/**
 * Apps beyond the old 1 MiB cap, from a real Git repository, on real PostgreSQL: the default 16 MiB
 * App cap, bundles stored gzip-compressed and once per revision whatever the number of clusters.
 */
describe('big Apps', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let pg: Client;
  let gql: Gql;
  let scratch: string;
  let repo: string;

  const { apply } = appSetClient(() => gql);

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-big-apps-'));
    repo = join(scratch, 'charts');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    // 14 × 900 000 bytes ≈ 12 MiB of manifests; 20 × 900 000 bytes ≈ 17.2 MiB.
    commit(repo, { ...configMaps('twelve', 14), ...configMaps('seventeen', 20) }, 'big manifests');
    ({ db, hub, gql } = await startTestHub({
      FLOTILLA_DATA_DIR: join(scratch, 'hub-data'),
      FLOTILLA_GIT_LOCAL_PATHS: scratch,
      // Generous on a loaded machine: the renders read and hash tens of MiB.
      FLOTILLA_GRAPHQL_REQUEST_TIMEOUT_MS: '120000',
      FLOTILLA_RENDER_TIMEOUT_MS: '120000',
    }));
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await registerClusters(gql, ['edge-1', 'edge-2']);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await pg?.end();
    await db?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('stages a 12 MiB App on two clusters as one compressed bundle whose bytes hash to the revision', async () => {
    expect(await apply(appSetYaml('twelve', repo, 'twelve'))).toMatchObject({ changed: true, issues: [] });
    const apps = await pg.query<{ cluster: string; staged_revision: string }>(
      `SELECT c.name AS cluster, a.staged_revision FROM apps a JOIN clusters c ON c.id = a.cluster_id JOIN app_sets s ON s.id = a.app_set_id WHERE s.name = 'twelve' ORDER BY c.name`,
    );
    expect(apps.rows.map((r) => r.cluster)).toEqual(['edge-1', 'edge-2']);
    const [revision] = new Set(apps.rows.map((r) => r.staged_revision.trim()));
    expect(new Set(apps.rows.map((r) => r.staged_revision.trim())).size).toBe(1);

    const bundles = await pg.query<{ revision: string; encoding: string | null; manifests_json: string | null; content: Buffer; size_bytes: number }>(
      `SELECT revision, encoding, manifests_json, content, size_bytes FROM manifest_bundles`,
    );
    expect(bundles.rows).toHaveLength(1);
    const [bundle] = bundles.rows;
    expect(bundle).toMatchObject({ revision, encoding: 'gzip', manifests_json: null });
    expect(bundle!.size_bytes).toBeGreaterThan(12 * 2 ** 20);
    expect(bundle!.size_bytes).toBeLessThanOrEqual(16 * 2 ** 20);
    expect(bundle!.content.length).toBeLessThan(bundle!.size_bytes);
    const json = gunzipSync(bundle!.content).toString('utf8');
    expect(Buffer.byteLength(json, 'utf8')).toBe(bundle!.size_bytes);
    expect(sha256Hex(json)).toBe(revision);
  }, 120_000);

  it('previews the staged 12 MiB App as unchanged, reading the compressed bundle back', async () => {
    const res = await gql<{ previewAppSet: { totals: { unchanged: number; changed: number; added: number } } }>(
      `query($y: String!) { previewAppSet(yaml: $y) { totals { unchanged changed added } } }`,
      { y: appSetYaml('twelve', repo, 'twelve') },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.previewAppSet.totals).toEqual({ unchanged: 2, changed: 0, added: 0 });
  }, 120_000);

  it('refuses a 17 MiB App as APP_TOO_LARGE and stages nothing of its AppSet', async () => {
    const outcome = await apply(appSetYaml('seventeen', repo, 'seventeen'));
    expect(outcome.changed).toBe(false);
    // One issue per cluster the App would go to.
    expect(outcome.issues.map((i) => i.code)).toEqual(['APP_TOO_LARGE', 'APP_TOO_LARGE']);
    expect(outcome.issues[0]!.message).toMatch(/the limit is 16777216/);
    const staged = await pg.query(`SELECT 1 FROM apps a JOIN app_sets s ON s.id = a.app_set_id WHERE s.name = 'seventeen'`);
    expect(staged.rows).toEqual([]);
    expect((await pg.query(`SELECT count(*)::int AS n FROM manifest_bundles`)).rows[0]).toEqual({ n: 1 });
  }, 120_000);
});
