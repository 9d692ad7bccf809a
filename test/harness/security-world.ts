import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { bearer, TEST_ADMIN_TOKEN } from './auth.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startOidcProvider, type OidcTestProvider } from './oidc.js';
import { postGraphql } from './probes.js';
import { startHub, type HubProcess } from './processes.js';
import { answerOf } from './security-answers.js';
import { TcpBalancer } from './tcp-balancer.js';

/**
 * The multi-tenant fleet the security specifications run against (RELIABILITY.md rows 10, 12, 14 and
 * 19): one hub, or several replicas over one database behind a TCP balancer, with a real OpenID
 * provider on loopback. Tenants: project team-a owns a-1 and shared-1, team-b owns b-1 and shared-1,
 * `default` owns nothing.
 */

export const AUDIENCE = 'flotilla-hub';
export const TEAM_A_GROUP = 'team-a-developers';
const OIDC_CLIENTS = [
  { clientId: 'team-a-ci', clientSecret: randomBytes(16).toString('hex'), groups: [TEAM_A_GROUP, 'everyone'] },
  { clientId: 'stranger', clientSecret: randomBytes(16).toString('hex'), groups: ['everyone'] },
];

export type Who = 'admin' | 'operator-a' | 'viewer-a' | 'operator-b' | 'oidc-team-a';

/** The fleet under test, as one replica count sets it up. */
export interface World {
  readonly hubs: HubProcess[];
  /** GraphQL through the balancer: successive probes reach successive replicas. */
  readonly url: string;
  readonly grpcAddress: string;
  readonly oidc: OidcTestProvider;
  readonly authorization: Record<Who, string>;
  readonly secrets: { readonly operatorA: string; readonly revoked: string };
  readonly tokenIds: { readonly operatorA: string; readonly operatorB: string };
  readonly rollouts: { readonly a: string; readonly b: string };
}

export const appSetYaml = (name: string, project: string | undefined, value = 'v1', namespace = project ?? 'default') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name}${project === undefined ? '' : `, project: ${project}`} }
spec:
  generators:
    - clusters: {}
  template:
    namespace: ${namespace}
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name}-config }
        data: { value: "${value}", cluster: "{{ cluster.name }}" }
  strategy:
    waves: [{ name: main, approval: true }]
`;

/** A team-a AppSet over a-1 with one list element and the given template. */
export const listAppSet = (name: string, element: string, template: string, extra = '') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name}, project: team-a }
spec:
  generators:
    - list: { elements: [ ${element} ] }
  template:
${template}
${extra}`;

export const CONFIG_MAP = `      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg }, data: { a: "1" } }`;

/** Every mutation of the schema, aimed at team-a's objects of the world, as `[document, variables]`. */
export const TEAM_A_MUTATIONS: Record<string, (w: World) => [string, Record<string, unknown>]> = {
  abortRollout: (w) => [`mutation($id: ID!) { abortRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
  applyAppSet: () => [`mutation($y: String!) { applyAppSet(yaml: $y) { changed } }`, { y: appSetYaml('a-app', 'team-a', 'by-viewer') }],
  completeAgentLinkCARotation: () => [`mutation { completeAgentLinkCARotation { rotationEndsAt } }`, {}],
  approveWave: (w) => [`mutation($id: ID!) { approveWave(id: $id, wave: "main") { phase } }`, { id: w.rollouts.a }],
  createApiToken: () => [`mutation { createApiToken(input: { name: "by-viewer", role: OPERATOR, project: "team-a" }) { token } }`, {}],
  createProject: () => [`mutation { createProject(input: { name: "by-viewer", namespaces: ["team-a"] }) { name } }`, {}],
  deleteProject: () => [`mutation { deleteProject(name: "team-a") }`, {}],
  deregisterCluster: () => [`mutation { deregisterCluster(name: "a-1") { deregistered } }`, {}],
  issueBootstrapToken: () => [`mutation { issueBootstrapToken(cluster: "a-1") { bootstrapToken } }`, {}],
  pauseRollout: (w) => [`mutation($id: ID!) { pauseRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
  refreshAppSet: () => [`mutation { refreshAppSet(name: "a-app") { changed } }`, {}],
  registerCluster: () => [`mutation { registerCluster(input: { name: "by-viewer", labels: { team: "a" } }) { bootstrapToken } }`, {}],
  resumeRollout: (w) => [`mutation($id: ID!) { resumeRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
  revokeAgentCredentials: () => [`mutation { revokeAgentCredentials(cluster: "a-1") { revokedAt } }`, {}],
  revokeApiToken: (w) => [`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: w.tokenIds.operatorA }],
  rotateAgentLinkCA: () => [`mutation { rotateAgentLinkCA(overlapSeconds: 60) { rotationEndsAt } }`, {}],
  rollbackRollout: (w) => [`mutation($id: ID!) { rollbackRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
  setClusterLabels: () => [`mutation { setClusterLabels(cluster: "a-1", labels: { team: "a", by: "viewer" }) { name } }`, {}],
  startRollout: () => [`mutation { startRollout(appSet: "a-app") { id } }`, {}],
  updateProject: () => [`mutation { updateProject(input: { name: "team-a", namespaces: ["*"], clusterScoped: true }) { name } }`, {}],
};

/**
 * Sets up the {@link World} of `replicas` hubs in `start` (call it in `beforeAll`) and stops whatever
 * started in `stop` (call it in `afterAll`, which runs even when `start` failed half-way).
 */
export class SecurityWorld {
  private db: TestDatabase | undefined;
  private oidc: OidcTestProvider | undefined;
  private httpBalancer: TcpBalancer | undefined;
  private grpcBalancer: TcpBalancer | undefined;
  private readonly hubs: HubProcess[] = [];

  constructor(private readonly replicas: number) {}

  async start(): Promise<World> {
    const { replicas, hubs } = this;
    const db = (this.db = await createTestDatabase());
    const oidc = (this.oidc = await startOidcProvider({ clients: OIDC_CLIENTS }));
    const env = (replica: number) => ({
      FLOTILLA_REPLICA_ID: `security-${replica}`,
      FLOTILLA_OIDC_ISSUER: oidc.issuer,
      FLOTILLA_OIDC_AUDIENCE: AUDIENCE,
      FLOTILLA_OIDC_ROLE_BINDINGS: JSON.stringify([{ group: TEAM_A_GROUP, role: 'OPERATOR', project: 'team-a' }]),
      FLOTILLA_OIDC_CLOCK_TOLERANCE_SECONDS: '5',
      FLOTILLA_OIDC_JWKS_COOLDOWN_SECONDS: '5',
    });
    // The first replica migrates; the others start against the migrated schema.
    hubs.push(await startHub({ databaseUrl: db.url, env: env(0) }));
    // Each is kept as soon as it runs, so that stop() stops it even if another fails to start.
    await Promise.all(Array.from({ length: replicas - 1 }, async (_, i) => hubs.push(await startHub({ databaseUrl: db.url, env: env(i + 1) }))));
    const httpBalancer = (this.httpBalancer = await TcpBalancer.start(hubs.map((hub) => new URL(hub.graphqlUrl).host)));
    const grpcBalancer = (this.grpcBalancer = await TcpBalancer.start(hubs.map((hub) => hub.grpcAddress)));
    const url = `http://${httpBalancer.address}/graphql`;
    const admin = bearer(TEST_ADMIN_TOKEN);
    const setup = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
      const answer = answerOf(await postGraphql(url, admin, query, variables));
      if (answer.errors.length > 0) throw new Error(`setup: ${query}\n${JSON.stringify(answer.errors)}`);
      return answer.data as T;
    };

    // Given two tenants and a `default` project restricted to no cluster
    const project = `mutation($input: CreateProjectInput!) { createProject(input: $input) { name } }`;
    await setup(project, { input: { name: 'team-a', clusterSelector: { matchLabels: { team: 'a' } }, namespaces: ['team-a', 'team-a-*'], kinds: [], clusterScoped: false } });
    await setup(project, { input: { name: 'team-b', clusterSelector: { matchLabels: { 'tenant-b': 'true' } }, namespaces: ['team-b', 'team-b-*'], kinds: [], clusterScoped: false } });
    await setup(`mutation($input: UpdateProjectInput!) { updateProject(input: $input) { name } }`, {
      input: { name: 'default', clusterSelector: { matchLabels: { 'flotilla.dev/none': 'x' } } },
    });
    // And a-1 (team-a), b-1 (team-b) and shared-1, which both own
    for (const [name, labels] of [
      ['a-1', { team: 'a' }],
      ['b-1', { team: 'b', 'tenant-b': 'true' }],
      ['shared-1', { team: 'a', 'tenant-b': 'true' }],
    ] as const) {
      await setup(`mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { cluster { name } } }`, { name, labels });
    }
    // And an AppSet per project with a rollout waiting for approval
    const rollouts: Record<string, string> = {};
    for (const [name, team] of [
      ['a-app', 'team-a'],
      ['b-app', 'team-b'],
    ] as const) {
      const applied = await setup<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: appSetYaml(name, team) });
      expect(applied.applyAppSet.issues).toEqual([]);
      rollouts[name] = (await setup<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: name })).startRollout.id;
    }
    // And API tokens: operator and viewer of team-a, operator of team-b, and one already revoked
    const token = async (name: string, role: string, team: string) =>
      (
        await setup<{ createApiToken: { token: string; apiToken: { id: string } } }>(
          `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`,
          { input: { name, role, project: team, expiresIn: '1h' } },
        )
      ).createApiToken;
    const operatorA = await token('operator-a', 'OPERATOR', 'team-a');
    const viewerA = await token('viewer-a', 'VIEWER', 'team-a');
    const operatorB = await token('operator-b', 'OPERATOR', 'team-b');
    const revoked = await token('revoked', 'OPERATOR', 'team-a');
    await setup(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: revoked.apiToken.id });

    return {
      hubs,
      url,
      grpcAddress: grpcBalancer.address,
      oidc,
      authorization: {
        admin,
        'operator-a': bearer(operatorA.token),
        'viewer-a': bearer(viewerA.token),
        'operator-b': bearer(operatorB.token),
        'oidc-team-a': bearer(await oidc.token('team-a-ci', { audience: AUDIENCE })),
      },
      secrets: { operatorA: operatorA.token, revoked: revoked.token },
      tokenIds: { operatorA: operatorA.apiToken.id, operatorB: operatorB.apiToken.id },
      rollouts: { a: rollouts['a-app']!, b: rollouts['b-app']! },
    };
  }

  async stop(): Promise<void> {
    await this.httpBalancer?.close();
    await this.grpcBalancer?.close();
    await Promise.all(this.hubs.map((hub) => hub.stop()));
    await this.oidc?.stop();
    await this.db?.drop();
  }
}
