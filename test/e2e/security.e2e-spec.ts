import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, TEST_ADMIN_TOKEN } from '../harness/auth.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { forgeToken, startOidcProvider, type ForgedTokenKind, type OidcTestProvider } from '../harness/oidc.js';
import { getGraphql, openGraphqlSocket, postGraphql, probeAgentStream, type HttpAnswer, type SocketOutcome } from '../harness/probes.js';
import { startHub, type HubProcess } from '../harness/processes.js';
import { rootFieldOperations, schemaOf } from '../harness/root-operations.js';
import { TcpBalancer } from '../harness/tcp-balancer.js';

/**
 * RELIABILITY.md rows 10, 12 and 14, once with one hub and once with three replicas over one database
 * behind a TCP balancer (row 19: the tables must come out identical, which the last test checks).
 * The hubs are real processes; OIDC tokens come from a real OpenID provider on loopback. Tenants:
 * project team-a owns a-1 and shared-1, team-b owns b-1 and shared-1, `default` owns nothing.
 */

const SDL = readFileSync(new URL('../../hub/schema.gql', import.meta.url), 'utf8');
const ROOT_FIELDS = rootFieldOperations(SDL);
const MUTATIONS = ROOT_FIELDS.filter((f) => f.type === 'mutation').map((f) => f.field);
const AUDIENCE = 'flotilla-hub';
const TEAM_A_GROUP = 'team-a-developers';
const OIDC_CLIENTS = [
  { clientId: 'team-a-ci', clientSecret: randomBytes(16).toString('hex'), groups: [TEAM_A_GROUP, 'everyone'] },
  { clientId: 'stranger', clientSecret: randomBytes(16).toString('hex'), groups: ['everyone'] },
];
/** How soon a revocation made through one replica must hold on every replica. */
const REVOCATION_BOUND_MS = 1_000;
/** How soon an open subscription of a revoked token must end. */
const SUBSCRIPTION_END_BOUND_MS = 5_000;

type Who = 'admin' | 'operator-a' | 'viewer-a' | 'operator-b' | 'oidc-team-a';

/** The fleet under test, as one replica count sets it up. */
interface World {
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

/** A GraphQL answer reduced to what a client can tell apart. */
interface Answer {
  readonly status: number;
  readonly data: unknown;
  readonly errors: { readonly code: string | undefined; readonly message: string }[];
}

function answerOf(http: HttpAnswer): Answer {
  return {
    status: http.status,
    data: http.json?.data ?? null,
    errors: (http.json?.errors ?? []).map((e) => ({ code: e.extensions?.code, message: e.message })),
  };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;

/** The value with `names` replaced (longest first), then ids and timestamps: what must match across calls and runs. */
function scrub<T>(value: T, names: Record<string, string> = {}): T {
  let text = JSON.stringify(value);
  for (const [from, to] of Object.entries(names).sort((a, b) => b[0].length - a[0].length)) text = text.split(from).join(to);
  return JSON.parse(text.replace(UUID, '<id>').replace(TIMESTAMP, '<time>')) as T;
}

/** Row 19: what each table row saw, per replica count; the last test compares the two runs. */
const transcripts = new Map<number, Map<string, unknown>>();

const appSetYaml = (name: string, project: string | undefined, value = 'v1', namespace = project ?? 'default') => `
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
const listAppSet = (name: string, element: string, template: string, extra = '') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name}, project: team-a }
spec:
  generators:
    - list: { elements: [ ${element} ] }
  template:
${template}
${extra}`;

const CONFIG_MAP = `      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg }, data: { a: "1" } }`;

describe.each([{ replicas: 1 }, { replicas: 3 }])('tenant isolation and authentication with $replicas hub replica(s)', ({ replicas }) => {
  let db: TestDatabase;
  let oidc: OidcTestProvider;
  let httpBalancer: TcpBalancer;
  let grpcBalancer: TcpBalancer;
  const hubs: HubProcess[] = [];
  let w: World;
  /** The rollout operator-a starts (and leaves PAUSED) in the operator test; the revocation test watches it. */
  let operatorRollout = '';
  const transcript = new Map<string, unknown>();
  transcripts.set(replicas, transcript);
  const record = (key: string, value: unknown) => transcript.set(key, scrub(value));

  const ask = async (who: Who, query: string, variables: Record<string, unknown> = {}) => answerOf(await postGraphql(w.url, w.authorization[who], query, variables));
  /** `data` of an answer that must have no errors. */
  const must = async <T>(who: Who, query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const answer = await ask(who, query, variables);
    if (answer.errors.length > 0 || answer.status !== 200) throw new Error(`${who}: ${query}\n${JSON.stringify(answer)}`);
    return answer.data as T;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    oidc = await startOidcProvider({ clients: OIDC_CLIENTS });
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
    // Each is kept as soon as it runs, so that afterAll stops it even if another fails to start.
    await Promise.all(Array.from({ length: replicas - 1 }, async (_, i) => hubs.push(await startHub({ databaseUrl: db.url, env: env(i + 1) }))));
    httpBalancer = await TcpBalancer.start(hubs.map((hub) => new URL(hub.graphqlUrl).host));
    grpcBalancer = await TcpBalancer.start(hubs.map((hub) => hub.grpcAddress));
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

    w = {
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
  });

  afterAll(async () => {
    await httpBalancer?.close();
    await grpcBalancer?.close();
    await Promise.all(hubs.map((hub) => hub.stop()));
    await oidc?.stop();
    await db?.drop();
  });

  describe('row 14: anonymous and bad credentials on every entry point', () => {
    /** Every root field once as a POST and once as a GET with `authorization`: what came back for each. */
    const callEveryRootField = async (authorization: string | undefined) => {
      const seen = [];
      for (const operation of ROOT_FIELDS) {
        for (const [how, send] of [
          ['POST', () => postGraphql(w.url, authorization, operation.document)],
          ['GET', () => getGraphql(w.url, authorization, operation.document)],
        ] as const) {
          const http = await send();
          const answer = answerOf(http);
          seen.push({ call: `${how} ${operation.type} ${operation.field}`, status: answer.status, data: answer.data, codes: answer.errors.map((e) => e.code), challenge: http.headers['www-authenticate'] });
        }
      }
      return seen;
    };
    const forged = (kind: ForgedTokenKind) => async () =>
      bearer(await forgeToken(kind, { issuer: w.oidc.issuer, audience: AUDIENCE, privateJwk: w.oidc.privateJwk, kid: w.oidc.kid, groups: [TEAM_A_GROUP], sub: 'mallory' }));
    const BAD_CREDENTIALS: { case: string; authorization: () => Promise<string | undefined> }[] = [
      { case: 'no Authorization header', authorization: async () => undefined },
      { case: 'an empty bearer', authorization: async () => 'Bearer ' },
      { case: 'a garbage bearer', authorization: async () => 'Bearer garbage' },
      { case: 'an API token the hub never issued', authorization: async () => bearer(`flt_api_${randomBytes(32).toString('base64url')}`) },
      { case: 'a revoked API token', authorization: async () => bearer(w.secrets.revoked) },
      { case: 'the admin token under the Basic scheme', authorization: async () => `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` },
      { case: 'an OIDC token with alg none', authorization: forged('alg-none') },
      { case: 'an OIDC token for another audience', authorization: forged('wrong-audience') },
      { case: 'an OIDC token from another issuer', authorization: forged('wrong-issuer') },
      { case: 'an expired OIDC token', authorization: forged('expired') },
      { case: 'an OIDC token signed by an unknown key id', authorization: forged('unknown-kid') },
      { case: 'an OIDC token HMAC-signed with the public key', authorization: forged('hmac-with-public-key') },
      { case: 'an OIDC token with a bad signature', authorization: forged('bad-signature') },
      { case: 'an OIDC token not valid yet', authorization: forged('not-yet-valid') },
      { case: 'an OIDC token without expiry', authorization: forged('no-expiry') },
    ];

    it('enumerates every root field of hub/schema.gql with a valid minimal operation', () => {
      const schema = schemaOf(SDL);
      expect(ROOT_FIELDS.map((f) => f.type)).toEqual(expect.arrayContaining(['query', 'mutation', 'subscription']));
      for (const operation of ROOT_FIELDS) expect(validate(schema, parse(operation.document)).map((e) => e.message), operation.document).toEqual([]);
    });

    it.each(titled(BAD_CREDENTIALS, (row) => row.case))('refuses %s with 401 UNAUTHENTICATED and no data on every root field (POST and GET), and refuses its graphql-ws connection', async (_title, row) => {
      const credential = await row.authorization();
      const seen = await callEveryRootField(credential);
      expect(seen).toEqual(seen.map(({ call }) => ({ call, status: 401, data: null, codes: ['UNAUTHENTICATED'], challenge: 'Bearer' })));
      const socket = await openGraphqlSocket(w.url, {
        connectionParams: credential === undefined ? {} : { authorization: credential },
        query: `subscription($id: ID!) { rolloutProgress(id: $id) { phase } }`,
        variables: { id: w.rollouts.a },
      }).outcome;
      expect(summary(socket)).toEqual({ acked: false, types: ['connection_error'], ended: 'closed' });
      record(`row 14: ${row.case}`, { calls: seen.length, socket: summary(socket) });
    });

    /** `types`: the messages the hub sends before it closes the socket (never an ack, never data). */
    const SOCKET_TRICKS: { case: string; probe: () => Omit<Parameters<typeof openGraphqlSocket>[1], 'query'>; types?: string[] }[] = [
      { case: 'a subscribe sent before connection_init', probe: () => ({ init: false }) },
      { case: 'a connection_init without payload', probe: () => ({}) },
      { case: 'a valid token nested under `headers`, which mercurius copies but the hub does not read', probe: () => ({ connectionParams: { headers: { authorization: bearer(w.secrets.operatorA) } } }) },
      {
        case: 'a refused connection_init followed by a subscribe carrying the admin token as a connectionInit extension',
        probe: () => ({ connectionParams: { authorization: 'Bearer garbage' }, extensions: [{ type: 'connectionInit', payload: { authorization: bearer(TEST_ADMIN_TOKEN) } }] }),
      },
      { case: 'the legacy graphql-ws subprotocol without a credential', probe: () => ({ protocol: 'graphql-ws', connectionParams: {} }) },
      { case: 'the legacy graphql-ws subprotocol, starting without connection_init', probe: () => ({ protocol: 'graphql-ws', init: false }) },
      { case: 'no subprotocol, starting without connection_init', probe: () => ({ protocol: null, init: false }), types: [] },
    ];

    it.each(titled(SOCKET_TRICKS, (row) => row.case))('refuses a graphql-ws connection with %s: closed, no ack, no data', async (_title, row) => {
      const outcome = await openGraphqlSocket(w.url, { ...row.probe(), query: `subscription($id: ID!) { rolloutProgress(id: $id) { phase } }`, variables: { id: w.rollouts.a } }).outcome;
      expect(summary(outcome)).toEqual({ acked: false, types: row.types ?? ['connection_error'], ended: 'closed' });
      record(`row 14: socket, ${row.case}`, summary(outcome));
    });

    it('lets the admin token through the edge on every root query field (control for the table above)', async () => {
      for (const operation of ROOT_FIELDS.filter((f) => f.type === 'query')) {
        const answer = await ask('admin', operation.document);
        expect(answer.errors.map((e) => e.code), operation.document).not.toContain('UNAUTHENTICATED');
        expect(answer.status, operation.document).toBe(200);
      }
    });

    it('accepts a token the provider issued to a team-a group member: me is oidc:<sub>, OPERATOR in team-a, over POST, GET and graphql-ws', async () => {
      const token = w.authorization['oidc-team-a'];
      const subject = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }).sub;
      const expected = { me: { actor: `oidc:${subject}`, kind: 'oidc', admin: false, issuer: w.oidc.issuer, projects: [{ project: 'team-a', role: 'OPERATOR' }] } };
      const query = `{ me { actor kind admin issuer projects { project role } } }`;
      expect(await must('oidc-team-a', query)).toEqual(expected);
      expect(answerOf(await getGraphql(w.url, token, query))).toEqual({ status: 200, data: expected, errors: [] });
      // graphql-ws serves subscriptions only: the token must open one on its own project's rollout
      const socket = openGraphqlSocket(w.url, { connectionParams: { authorization: token }, query: `subscription($id: ID!) { rolloutProgress(id: $id) { appSet phase } }`, variables: { id: w.rollouts.a } });
      const next = await socket.firstNext.finally(() => socket.close());
      expect(next).toEqual({ id: '1', type: 'next', payload: { data: { rolloutProgress: { appSet: 'a-app', phase: 'PROGRESSING' } } } });
      // And it reads its own project's clusters only
      expect(await must('oidc-team-a', `{ clusters { name } }`)).toEqual({ clusters: [{ name: 'a-1' }, { name: 'shared-1' }] });
      record('row 14: valid OIDC token', { subjectIsClient: subject === 'team-a-ci', clusters: ['a-1', 'shared-1'] });
    });

    it('answers a valid OIDC token whose groups map to no role with 403 PERMISSION_DENIED on every root field, and refuses its graphql-ws connection', async () => {
      const credential = bearer(await w.oidc.token('stranger', { audience: AUDIENCE }));
      const seen = await callEveryRootField(credential);
      expect(seen).toEqual(seen.map(({ call }) => ({ call, status: 403, data: null, codes: ['PERMISSION_DENIED'], challenge: undefined })));
      const socket = await openGraphqlSocket(w.url, { connectionParams: { authorization: credential }, query: `{ me { actor } }` }).outcome;
      expect(summary(socket)).toEqual({ acked: false, types: ['connection_error'], ended: 'closed' });
      record('row 14: OIDC token without role', { calls: seen.length, socket: summary(socket) });
    });

    const AGENT_PATH: { case: string; authorization: () => Promise<string | undefined> }[] = [
      { case: 'the fleet-admin API token', authorization: async () => bearer(TEST_ADMIN_TOKEN) },
      { case: "team-a's operator API token", authorization: async () => bearer(w.secrets.operatorA) },
      { case: 'a valid OIDC token of a team-a operator', authorization: async () => w.authorization['oidc-team-a'] },
      { case: 'an OIDC token with alg none', authorization: forged('alg-none') },
      { case: 'no credential at all', authorization: async () => undefined },
    ];

    it.each(titled(AGENT_PATH, (row) => row.case))("refuses %s on the agent's gRPC connect path: Refusal UNAUTHENTICATED, status UNAUTHENTICATED, no Welcome", async (_title, row) => {
      const outcome = await probeAgentStream(w.grpcAddress, w.hubs[0]!.caBundle, 'a-1', await row.authorization());
      expect(outcome).toEqual({ refusal: 'UNAUTHENTICATED', welcomed: false, status: grpc.status.UNAUTHENTICATED });
      record(`row 14: agent path, ${row.case}`, outcome);
    });
  });

  describe('row 12: no cross-tenant read or write; out of scope answers like missing', () => {
    /**
     * One call made twice by the same principal: at an object of another tenant, and at a name or id
     * that does not exist. With the name replaced by <target>, the two answers must be identical.
     */
    interface LookalikeRow {
      readonly who: Who;
      readonly case: string;
      readonly document: string;
      readonly variables: (target: string) => Record<string, unknown>;
      readonly target: () => string;
      readonly missing: () => string;
      readonly check: (answer: Answer) => void;
    }
    const byName = (name: string, missing = 'zz-missing') => ({ target: () => name, missing: () => missing });
    const byId = (id: () => string) => ({ target: id, missing: () => randomUUID() });
    const named = (target: string) => ({ target });
    /** A single-object query: its field null, and one NOT_FOUND error (other fields of a batch would survive). */
    const notFound = (field: string) => (answer: Answer) => expect(answer).toEqual({ status: 200, data: { [field]: null }, errors: [{ code: 'NOT_FOUND', message: expect.any(String) }] });
    const fails = (code: string) => (answer: Answer) => {
      expect(answer.data).toBeNull();
      expect(answer.errors.map((e) => e.code)).toEqual([code]);
    };
    const issues = (field: string, codes: string[]) => (answer: Answer) =>
      expect(((answer.data as Record<string, { issues: { code: string }[] }>)[field]?.issues ?? []).map((i) => i.code)).toEqual(codes);
    const rollout = (verb: string, extra = '') => `mutation($target: ID!) { ${verb}(id: $target${extra}) { id phase } }`;

    const ROWS: LookalikeRow[] = [
      { who: 'operator-b', case: "reads team-a's cluster a-1", document: `query($target: String!) { cluster(name: $target) { name labels } }`, variables: named, ...byName('a-1'), check: notFound('cluster') },
      { who: 'operator-b', case: "reads team-a's AppSet", document: `query($target: String!) { appSet(name: $target) { name revision } }`, variables: named, ...byName('a-app'), check: notFound('appSet') },
      { who: 'operator-b', case: "reads team-a's rollout by id", document: `query($target: ID!) { rollout(id: $target) { id phase } }`, variables: named, ...byId(() => w.rollouts.a), check: notFound('rollout') },
      { who: 'operator-b', case: "reads the actors of team-a's rollout events", document: `query($target: ID!) { rollout(id: $target) { events { actor kind } } }`, variables: named, ...byId(() => w.rollouts.a), check: notFound('rollout') },
      { who: 'operator-b', case: 'reads project team-a', document: `query($target: String!) { project(name: $target) { name clusters appSets } }`, variables: named, ...byName('team-a'), check: notFound('project') },
      { who: 'operator-b', case: "filters audit events by project team-a", document: `query($target: String!) { auditEvents(filter: { project: $target }) { nodes { actor kind } } }`, variables: named, ...byName('team-a'), check: (a) => expect(a.data).toEqual({ auditEvents: { nodes: [] } }) },
      { who: 'operator-b', case: "previews a rollout of team-a's AppSet", document: `query($target: String!) { previewRollout(appSet: $target) { added } }`, variables: named, ...byName('a-app'), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: "diffs revisions of team-a's AppSet", document: `query($target: String!) { appSetRevisionDiff(appSet: $target, from: 1, to: 1) }`, variables: named, ...byName('a-app'), check: fails('NOT_FOUND') },
      {
        who: 'operator-b',
        case: 'previews relabeling a-1',
        document: `query($target: String!, $labels: JSONObject) { previewClusterChange(cluster: $target, labels: $labels) { appSets { appSet } } }`,
        variables: (target) => ({ target, labels: { team: 'b', 'tenant-b': 'true' } }),
        ...byName('a-1'),
        check: (a) => expect({ data: a.data, errors: a.errors.length }).toEqual({ data: null, errors: 1 }),
      },
      { who: 'operator-b', case: 'previews deregistering a-1', document: `query($target: String!) { previewClusterChange(cluster: $target, remove: true) { appSets { appSet } } }`, variables: named, ...byName('a-1'), check: fails('PERMISSION_DENIED') },
      {
        who: 'operator-b',
        case: 'previews an AppSet in project team-a',
        document: `query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } totals { added } } }`,
        variables: (team) => ({ y: appSetYaml('intruder', team) }),
        ...byName('team-a', 'zz-no-project'),
        check: issues('previewAppSet', ['PROJECT_NOT_FOUND']),
      },
      // AppSet names are fleet-wide: any answer but the one for a fresh name tells operator-b that team-a has an AppSet so named.
      {
        who: 'operator-b',
        case: "previews an AppSet of its own project under the name of team-a's AppSet",
        document: `query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } totals { added } } }`,
        variables: (name) => ({ y: appSetYaml(name, 'team-b') }),
        ...byName('a-app', 'zz-fresh-app'),
        check: issues('previewAppSet', []),
      },
      { who: 'viewer-a', case: "reads team-b's AppSet", document: `query($target: String!) { appSet(name: $target) { name } }`, variables: named, ...byName('b-app'), check: notFound('appSet') },
      { who: 'viewer-a', case: "reads team-b's rollout by id", document: `query($target: ID!) { rollout(id: $target) { id } }`, variables: named, ...byId(() => w.rollouts.b), check: notFound('rollout') },
      { who: 'oidc-team-a', case: "reads team-b's cluster b-1", document: `query($target: String!) { cluster(name: $target) { name } }`, variables: named, ...byName('b-1'), check: notFound('cluster') },
      { who: 'operator-b', case: "starts a rollout of team-a's AppSet", document: `mutation($target: String!) { startRollout(appSet: $target) { id } }`, variables: (t) => ({ target: t }), ...byName('a-app'), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: "pauses team-a's rollout", document: rollout('pauseRollout'), variables: named, ...byId(() => w.rollouts.a), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: "resumes team-a's rollout", document: rollout('resumeRollout'), variables: named, ...byId(() => w.rollouts.a), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: "aborts team-a's rollout", document: rollout('abortRollout'), variables: named, ...byId(() => w.rollouts.a), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: "rolls back team-a's rollout", document: rollout('rollbackRollout'), variables: named, ...byId(() => w.rollouts.a), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: "approves a wave of team-a's rollout", document: rollout('approveWave', ', wave: "main"'), variables: named, ...byId(() => w.rollouts.a), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: "refreshes team-a's AppSet", document: `mutation($target: String!) { refreshAppSet(name: $target) { changed } }`, variables: named, ...byName('a-app'), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: 'relabels a-1', document: `mutation($target: String!) { setClusterLabels(cluster: $target, labels: { team: "b" }) { name } }`, variables: named, ...byName('a-1'), check: fails('NOT_FOUND') },
      { who: 'operator-b', case: 'issues a bootstrap token for a-1', document: `mutation($target: String!) { issueBootstrapToken(cluster: $target) { bootstrapToken } }`, variables: named, ...byName('a-1'), check: fails('PERMISSION_DENIED') },
      {
        who: 'operator-b',
        case: 'applies an AppSet into project team-a',
        document: `mutation($y: String!) { applyAppSet(yaml: $y) { changed appSet { name } issues { code path message } } }`,
        variables: (team) => ({ y: appSetYaml('intruder', team) }),
        ...byName('team-a', 'zz-no-project'),
        check: issues('applyAppSet', ['PROJECT_NOT_FOUND']),
      },
      {
        who: 'operator-a',
        case: "applies a list generator that names team-b's cluster b-1",
        document: `mutation($y: String!) { applyAppSet(yaml: $y) { changed appSet { name } issues { code path message } } }`,
        variables: (cluster) => ({ y: listAppSet('reach-out', `{ cluster: ${cluster} }`, `    namespace: team-a\n    manifests:\n${CONFIG_MAP}`) }),
        ...byName('b-1', 'zz-no-cluster'),
        check: issues('applyAppSet', ['UNKNOWN_CLUSTER']),
      },
    ];

    it.each(titled(ROWS, (row) => `${row.who} ${row.case}`))('%s: answered exactly as for a missing one', async (_title, row) => {
      const target = row.target();
      const missing = row.missing();
      const outOfScope = scrub(await ask(row.who, row.document, row.variables(target)), { [target]: '<target>' });
      const absent = scrub(await ask(row.who, row.document, row.variables(missing)), { [missing]: '<target>' });
      expect(outOfScope).toEqual(absent);
      row.check(outOfScope);
      record(`row 12: ${row.who} ${row.case}`, outOfScope);
    });

    it('operator-b lists only team-b: clusters, AppSets, projects, audit events', async () => {
      const seen = await must<{ clusters: { name: string }[]; appSets: { name: string }[]; projects: { name: string; clusters: string[]; appSets: string[] }[]; auditEvents: { nodes: { project: string | null }[] } }>(
        'operator-b',
        `{ clusters { name } appSets { name } projects { name clusters appSets } auditEvents(first: 500) { nodes { project } } }`,
      );
      expect(seen.clusters.map((c) => c.name)).toEqual(['b-1', 'shared-1']);
      expect(seen.appSets.map((a) => a.name)).toEqual(['b-app']);
      expect(seen.projects).toEqual([{ name: 'team-b', clusters: ['b-1', 'shared-1'], appSets: ['b-app'] }]);
      expect(seen.auditEvents.nodes.filter((e) => e.project !== 'team-b')).toEqual([]);
      record('row 12: operator-b lists', { ...seen, auditEvents: seen.auditEvents.nodes.length > 0 });
    });

    it("shows only the caller's own Apps on a cluster both projects own (Cluster.apps), and admins both", async () => {
      const appsOf = async (who: Who) =>
        Object.fromEntries(
          (await must<{ clusters: { name: string; apps: { appSet: string }[] }[] }>(who, `{ clusters { name apps { appSet name } } }`)).clusters.map((c) => [c.name, c.apps.map((a) => a.appSet).sort()]),
        );
      expect(await appsOf('operator-b')).toEqual({ 'b-1': ['b-app'], 'shared-1': ['b-app'] });
      expect(await appsOf('viewer-a')).toEqual({ 'a-1': ['a-app'], 'shared-1': ['a-app'] });
      expect(await appsOf('admin')).toEqual({ 'a-1': ['a-app'], 'b-1': ['b-app'], 'shared-1': ['a-app', 'b-app'] });
      const shared = await must<{ cluster: { apps: { appSet: string }[] } }>('operator-b', `{ cluster(name: "shared-1") { apps(first: 1000) { appSet } } }`);
      expect(shared.cluster.apps).toEqual([{ appSet: 'b-app' }]);
      record('row 12: shared cluster', await appsOf('operator-b'));
    });

    it('answers aliased and batched lookups of team-a objects exactly like lookups of missing ones', async () => {
      const batch = (cluster: string, appSet: string, id: string, team: string) => `{
        c: cluster(name: "${cluster}") { name } s: appSet(name: "${appSet}") { name } r: rollout(id: "${id}") { id events { actor } }
        p: project(name: "${team}") { name } mine: cluster(name: "b-1") { name }
        again: cluster(name: "${cluster}") { apps { name } } }`;
      const missingId = randomUUID();
      // Errors come in the order the fields finish: compare them as a sorted list.
      const sorted = (answer: Answer): Answer => ({ ...answer, errors: [...answer.errors].sort((x, y) => x.message.localeCompare(y.message)) });
      const outOfScope = sorted(scrub(await ask('operator-b', batch('a-1', 'a-app', w.rollouts.a, 'team-a')), { [w.rollouts.a]: '<id>', 'a-1': '<cluster>', 'a-app': '<app>', 'team-a': '<project>' }));
      const missing = sorted(scrub(await ask('operator-b', batch('zz-1', 'zz-app', missingId, 'zz-team')), { [missingId]: '<id>', 'zz-1': '<cluster>', 'zz-app': '<app>', 'zz-team': '<project>' }));
      expect(outOfScope).toEqual({
        status: 200,
        data: { c: null, s: null, r: null, p: null, mine: { name: 'b-1' }, again: null },
        errors: [
          { code: 'NOT_FOUND', message: 'AppSet "<app>" does not exist.' },
          { code: 'NOT_FOUND', message: 'Cluster "<cluster>" is not registered.' },
          { code: 'NOT_FOUND', message: 'Cluster "<cluster>" is not registered.' },
          { code: 'NOT_FOUND', message: 'Project "<project>" does not exist.' },
          { code: 'NOT_FOUND', message: 'Rollout "<id>" does not exist.' },
        ],
      });
      expect(missing).toEqual(outOfScope);
      const mutations = (appSet: string, id: string) => `mutation { x: pauseRollout(id: "${id}") { id } y: startRollout(appSet: "${appSet}") { id } }`;
      const a = scrub(await ask('operator-b', mutations('a-app', w.rollouts.a)), { 'a-app': '<app>', [w.rollouts.a]: '<rollout>' });
      const b = scrub(await ask('operator-b', mutations('zz-app', missingId)), { 'zz-app': '<app>', [missingId]: '<rollout>' });
      expect(a).toEqual(b);
      expect(a.data).toBeNull();
      record('row 12: batches', { outOfScope, mutations: a });
    });

    it("answers guessed rollout ids and team-a's real one the same way, for reads and for verbs", async () => {
      const guesses = [w.rollouts.a, w.rollouts.a.toUpperCase(), ...Array.from({ length: 8 }, () => randomUUID()), 'not-a-uuid', `${w.rollouts.a}' OR '1'='1`];
      const answers = new Set<string>();
      for (const id of guesses) {
        const read = await ask('operator-b', `query($id: ID!) { rollout(id: $id) { id } }`, { id });
        const verb = await ask('operator-b', `mutation($id: ID!) { pauseRollout(id: $id) { id } }`, { id });
        answers.add(JSON.stringify(scrub({ read, verb }, { [id]: '<id>' })));
      }
      expect([...answers]).toHaveLength(1);
      expect(JSON.parse([...answers][0]!)).toMatchObject({ read: { data: { rollout: null }, errors: [{ code: 'NOT_FOUND' }] }, verb: { data: null, errors: [{ code: 'NOT_FOUND' }] } });
      record('row 12: id guessing', JSON.parse([...answers][0]!));
    });

    it("ends operator-b's rolloutProgress subscription of team-a's rollout with NOT_FOUND and no data, as for a missing id", async () => {
      const subscribe = (id: string) =>
        openGraphqlSocket(w.url, { connectionParams: { authorization: w.authorization['operator-b'] }, query: `subscription($id: ID!) { rolloutProgress(id: $id) { id phase } }`, variables: { id } }).outcome;
      const [a, b] = [w.rollouts.a, randomUUID()];
      const [outOfScope, missing] = await Promise.all([subscribe(a), subscribe(b)]);
      expect(summary(outOfScope)).toEqual({ acked: true, types: ['connection_ack', 'error'], ended: 'error' });
      expect(summary(missing)).toEqual(summary(outOfScope));
      const errorOf = (outcome: typeof outOfScope, id: string) => scrub(outcome.messages.find((m) => m.type === 'error')?.payload, { [id]: '<id>' });
      expect(errorOf(outOfScope, a)).toEqual([{ message: 'Rollout "<id>" does not exist.', extensions: { code: 'NOT_FOUND' } }]);
      expect(errorOf(missing, b)).toEqual(errorOf(outOfScope, a));
      record('row 12: subscription', summary(outOfScope));
    });
  });

  describe('viewers read, operators operate their project, only admins manage the fleet', () => {
    /** Every mutation of the schema, aimed at team-a's objects. */
    const VIEWER_CALLS: Record<string, () => [string, Record<string, unknown>]> = {
      abortRollout: () => [`mutation($id: ID!) { abortRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
      applyAppSet: () => [`mutation($y: String!) { applyAppSet(yaml: $y) { changed } }`, { y: appSetYaml('a-app', 'team-a', 'by-viewer') }],
      completeAgentLinkCARotation: () => [`mutation { completeAgentLinkCARotation { rotationEndsAt } }`, {}],
      approveWave: () => [`mutation($id: ID!) { approveWave(id: $id, wave: "main") { phase } }`, { id: w.rollouts.a }],
      createApiToken: () => [`mutation { createApiToken(input: { name: "by-viewer", role: OPERATOR, project: "team-a" }) { token } }`, {}],
      createProject: () => [`mutation { createProject(input: { name: "by-viewer", namespaces: ["team-a"] }) { name } }`, {}],
      deleteProject: () => [`mutation { deleteProject(name: "team-a") }`, {}],
      deregisterCluster: () => [`mutation { deregisterCluster(name: "a-1") { deregistered } }`, {}],
      issueBootstrapToken: () => [`mutation { issueBootstrapToken(cluster: "a-1") { bootstrapToken } }`, {}],
      pauseRollout: () => [`mutation($id: ID!) { pauseRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
      refreshAppSet: () => [`mutation { refreshAppSet(name: "a-app") { changed } }`, {}],
      registerCluster: () => [`mutation { registerCluster(input: { name: "by-viewer", labels: { team: "a" } }) { bootstrapToken } }`, {}],
      resumeRollout: () => [`mutation($id: ID!) { resumeRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
      revokeAgentCredentials: () => [`mutation { revokeAgentCredentials(cluster: "a-1") { revokedAt } }`, {}],
      revokeApiToken: () => [`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: w.tokenIds.operatorA }],
      rotateAgentLinkCA: () => [`mutation { rotateAgentLinkCA(overlapSeconds: 60) { rotationEndsAt } }`, {}],
      rollbackRollout: () => [`mutation($id: ID!) { rollbackRollout(id: $id) { phase } }`, { id: w.rollouts.a }],
      setClusterLabels: () => [`mutation { setClusterLabels(cluster: "a-1", labels: { team: "a", by: "viewer" }) { name } }`, {}],
      startRollout: () => [`mutation { startRollout(appSet: "a-app") { id } }`, {}],
      updateProject: () => [`mutation { updateProject(input: { name: "team-a", namespaces: ["*"], clusterScoped: true }) { name } }`, {}],
    };
    const state = async () =>
      must<unknown>(
        'admin',
        `query($id: ID!) {
          appSet(name: "a-app") { revision condition apps { cluster stagedRevision revision } }
          rollout(id: $id) { phase reason waves { name approved } events { kind actor } }
          clusters { name labels } projects { name clusterSelector namespaces kinds clusterScoped }
          apiTokens { id name revokedAt } }`,
        { id: w.rollouts.a },
      );
    let before: unknown;

    beforeAll(async () => {
      before = await state();
    });

    it('covers every mutation of the schema', () => {
      expect(Object.keys(VIEWER_CALLS).sort()).toEqual([...MUTATIONS].sort());
    });

    it.each(MUTATIONS)('viewer-a calling %s on team-a objects is PERMISSION_DENIED', async (mutation) => {
      const call = VIEWER_CALLS[mutation];
      if (!call) throw new Error(`no viewer call for ${mutation}`);
      const answer = await ask('viewer-a', ...call());
      expect(answer.data).toBeNull();
      expect(answer.errors.map((e) => e.code)).toEqual(['PERMISSION_DENIED']);
      record(`viewer: ${mutation}`, answer);
    });

    it("leaves everything as it was after the viewer's attempts", async () => {
      expect(before).toBeDefined();
      expect(await state()).toEqual(before);
    });

    const OPERATOR_DENIED: { case: string; document: () => [string, Record<string, unknown>] }[] = [
      { case: 'register a cluster', document: () => [`mutation { registerCluster(input: { name: "by-operator", labels: { team: "a" } }) { bootstrapToken } }`, {}] },
      { case: 'create an API token, even for its own project', document: () => [`mutation { createApiToken(input: { name: "by-operator", role: OPERATOR, project: "team-a" }) { token } }`, {}] },
      { case: 'create a project', document: () => [`mutation { createProject(input: { name: "by-operator", namespaces: ["team-a"] }) { name } }`, {}] },
      { case: 'widen its own project', document: () => [`mutation { updateProject(input: { name: "team-a", namespaces: ["*"], clusterScoped: true }) { name } }`, {}] },
      { case: 'delete a project', document: () => [`mutation { deleteProject(name: "team-b") }`, {}] },
      { case: "revoke team-b's token", document: () => [`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: w.tokenIds.operatorB }] },
      { case: 'issue a bootstrap token for its own cluster', document: () => [`mutation { issueBootstrapToken(cluster: "a-1") { bootstrapToken } }`, {}] },
      { case: 'deregister its own cluster', document: () => [`mutation { deregisterCluster(name: "a-1") { deregistered } }`, {}] },
      { case: "revoke its own cluster's agent credentials", document: () => [`mutation { revokeAgentCredentials(cluster: "a-1") { revokedAt } }`, {}] },
      { case: 'relabel shared-1, which team-b also owns', document: () => [`mutation { setClusterLabels(cluster: "shared-1", labels: { team: "a" }) { name } }`, {}] },
      { case: "move a-1 into team-b's selector", document: () => [`mutation($l: JSONObject!) { setClusterLabels(cluster: "a-1", labels: $l) { name } }`, { l: { team: 'a', 'tenant-b': 'true' } }] },
      { case: 'list API tokens', document: () => [`{ apiTokens { id } }`, {}] },
      { case: 'rotate the agent-link CA', document: () => [`mutation { rotateAgentLinkCA(overlapSeconds: 60) { rotationEndsAt } }`, {}] },
      { case: 'end a CA rotation', document: () => [`mutation { completeAgentLinkCARotation { rotationEndsAt } }`, {}] },
      { case: 'read the agent-link trust', document: () => [`{ agentLinkTrust { bundlePem } }`, {}] },
    ];

    it.each(titled(OPERATOR_DENIED, (row) => row.case))('operator-a may not %s: PERMISSION_DENIED', async (title, { document }) => {
      const answer = await ask('operator-a', ...document());
      expect(answer.errors.map((e) => e.code)).toEqual(['PERMISSION_DENIED']);
      expect(answer.data).toBeNull();
      record(`operator may not ${title}`, answer);
    });

    it('operator-a applies, starts, pauses and resumes in team-a, and relabels a cluster only team-a owns', async () => {
      // When operator-a changes its AppSet
      const applied = await must<{ applyAppSet: { changed: boolean; issues: unknown[]; appSet: { revision: number } } }>(
        'operator-a',
        `mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code } appSet { revision } } }`,
        { y: appSetYaml('a-app', 'team-a', 'v2') },
      );
      expect(applied.applyAppSet).toEqual({ changed: true, issues: [], appSet: { revision: 2 } });
      // And rolls it out, pauses, resumes and pauses again
      const started = await must<{ startRollout: { id: string; phase: string; startedBy: string } }>('operator-a', `mutation { startRollout(appSet: "a-app") { id phase startedBy } }`);
      expect(started.startRollout).toMatchObject({ phase: 'PROGRESSING', startedBy: 'token:operator-a' });
      const id = started.startRollout.id;
      for (const [verb, phase] of [
        ['pauseRollout', 'PAUSED'],
        ['resumeRollout', 'PROGRESSING'],
        ['pauseRollout', 'PAUSED'],
      ] as const) {
        expect(await must('operator-a', `mutation($id: ID!) { ${verb}(id: $id) { phase } }`, { id }), verb).toEqual({ [verb]: { phase } });
      }
      // And relabels a-1, which only team-a owns
      expect(await must('operator-a', `mutation { setClusterLabels(cluster: "a-1", labels: { team: "a", tier: "gold" }) { labels } }`)).toEqual({ setClusterLabels: { labels: { team: 'a', tier: 'gold' } } });
      // Then the admin sees the earlier rollout superseded and the new one paused
      const seen = await must<{ old: { phase: string }; current: { phase: string; events: { actor: string; kind: string }[] } }>(
        'admin',
        `query($old: ID!, $id: ID!) { old: rollout(id: $old) { phase } current: rollout(id: $id) { phase events { actor kind } } }`,
        { old: w.rollouts.a, id },
      );
      expect(seen.old.phase).toBe('SUPERSEDED');
      expect(seen.current.phase).toBe('PAUSED');
      operatorRollout = id;
      record('operator flow', { applied, phase: seen.current.phase, events: seen.current.events });
    });
  });

  describe('row 10: template injection into project, namespace or scope', () => {
    const INJECTIONS: { case: string; yaml: (name: string) => string; codes: string[] }[] = [
      {
        case: 'a list value "../kube-system" used as the namespace',
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: "../kube-system" }`, `    namespace: "{{ ns }}"\n    manifests:\n${CONFIG_MAP}`),
        codes: ['INVALID_NAMESPACE'],
      },
      {
        case: "a list value naming team-b's namespace",
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: team-b }`, `    namespace: "{{ ns }}"\n    manifests:\n${CONFIG_MAP}`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: "a list value putting one object in kube-system",
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: kube-system }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg, namespace: "{{ ns }}" } }`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a "{{ }}" expression inside a value (rendered once, never re-rendered)',
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: "{{ 'kube-system' }}" }`, `    namespace: "{{ ns }}"\n    manifests:\n${CONFIG_MAP}`),
        codes: ['INVALID_NAMESPACE'],
      },
      {
        case: 'a namespace that matches team-a-* only as text',
        yaml: (n) => listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg, namespace: "team-a-../../kube-system" } }`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a YAML anchor carrying kube-system into a manifest',
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: &target kube-system }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg, namespace: *target } }`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a billion-laughs alias expansion',
        yaml: (n) => {
          const row = (alias: string) => `[${Array(10).fill(alias).join(', ')}]`;
          return listAppSet(
            n,
            `{ cluster: a-1, l0: &l0 "lol", l1: &l1 ${row('*l0')}, l2: &l2 ${row('*l1')}, l3: &l3 ${row('*l2')}, l4: &l4 ${row('*l3')} }`,
            `    namespace: team-a\n    manifests:\n${CONFIG_MAP}`,
          );
        },
        codes: ['YAML_ALIAS_LIMIT'],
      },
      {
        case: 'a templated project name',
        yaml: (n) => listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n${CONFIG_MAP}`).replace('project: team-a', 'project: "{{ project }}"'),
        codes: ['SCHEMA'],
      },
      {
        case: 'a project name with a path',
        yaml: (n) => listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n${CONFIG_MAP}`).replace('project: team-a', 'project: "../team-b"'),
        codes: ['SCHEMA'],
      },
      {
        case: 'a ClusterRoleBinding to cluster-admin',
        yaml: (n) =>
          listAppSet(
            n,
            `{ cluster: a-1 }`,
            `    namespace: team-a\n    manifests:\n      - apiVersion: rbac.authorization.k8s.io/v1\n        kind: ClusterRoleBinding\n        metadata: { name: team-a-admin }\n        roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }\n        subjects: [{ kind: ServiceAccount, name: default, namespace: team-a }]`,
          ),
        codes: ['PROJECT_CLUSTER_SCOPED_NOT_ALLOWED'],
      },
      {
        case: 'a privileged DaemonSet in kube-system',
        yaml: (n) =>
          listAppSet(
            n,
            `{ cluster: a-1 }`,
            `    namespace: team-a\n    manifests:\n      - apiVersion: apps/v1\n        kind: DaemonSet\n        metadata: { name: node-shell, namespace: kube-system }\n        spec:\n          selector: { matchLabels: { app: node-shell } }\n          template:\n            metadata: { labels: { app: node-shell } }\n            spec:\n              hostPID: true\n              containers: [{ name: shell, image: busybox, securityContext: { privileged: true } }]`,
          ),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a Namespace under a syncPolicy scope that claims every namespace and cluster-scoped objects',
        yaml: (n) =>
          listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: Namespace, metadata: { name: kube-system } }`, `  syncPolicy: { scope: { namespaces: ["*"], clusterScoped: true } }`),
        codes: ['PROJECT_CLUSTER_SCOPED_NOT_ALLOWED'],
      },
      { case: "project team-b, which operator-a cannot see", yaml: (n) => appSetYaml(n, 'team-b'), codes: ['PROJECT_NOT_FOUND'] },
      { case: 'no project, which puts it in default, where operator-a has no role', yaml: (n) => appSetYaml(n, undefined, 'v1', 'team-a'), codes: ['PROJECT_NOT_FOUND'] },
      {
        case: "team-a's own AppSet moved into kube-system",
        yaml: () => appSetYaml('a-app', 'team-a', 'v3', 'kube-system'),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
    ];

    it.each(titled(INJECTIONS.map((row, index) => ({ ...row, name: `injected-${index}` })), (row) => `${row.case} gets ${row.codes.join(', ')}`))(
      'operator-a applying %s, nothing is stored, and previewAppSet shows the same issues',
      async (_title, { yaml, codes, name }) => {
        const document = yaml(name);
        const appSetName = /name: ([a-z0-9-]+)/.exec(document)![1]!;
        // What is stored under that name: the AppSet, or the NOT_FOUND a missing one answers.
        const stored = async () => {
          const answer = await ask('admin', `query($n: String!) { appSet(name: $n) { revision condition } }`, { n: appSetName });
          return answer.errors.length > 0 ? answer.errors.map((e) => e.code) : answer.data;
        };
        const before = await stored();
        const applied = await must<{ applyAppSet: { changed: boolean; appSet: unknown; issues: { code: string; path: string }[] } }>(
          'operator-a',
          `mutation($y: String!) { applyAppSet(yaml: $y) { changed appSet { name } issues { code path message } } }`,
          { y: document },
        );
        const preview = await must<{ previewAppSet: { issues: { code: string; path: string }[]; totals: unknown } }>(
          'operator-a',
          `query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } totals { added } } }`,
          { y: document },
        );
        expect([...new Set(applied.applyAppSet.issues.map((i) => i.code))].sort()).toEqual(codes);
        expect(applied.applyAppSet).toMatchObject({ changed: false, appSet: null });
        expect(preview.previewAppSet.issues).toEqual(applied.applyAppSet.issues);
        expect(preview.previewAppSet.totals).toBeNull();
        expect(await stored()).toEqual(before);
        record(`row 10: ${name}`, applied);
      },
    );
  });

  describe('audit trail and revocation', () => {
    it("shows operator-b's refused attempts to an admin, with where they came from, and only team-a events to operator-a", async () => {
      const byB = await must<{ auditEvents: { nodes: { kind: string; outcome: string; project: string | null; remoteAddress: string; reason: string }[] } }>(
        'admin',
        `{ auditEvents(filter: { actor: "token:operator-b" }, first: 500) { nodes { kind outcome project remoteAddress reason } } }`,
      );
      const nodes = byB.auditEvents.nodes;
      expect(new Set(nodes.map((e) => e.outcome))).toEqual(new Set(['DENIED', 'FAILED']));
      expect(nodes.filter((e) => e.remoteAddress === '' || e.reason === '')).toEqual([]);
      expect(nodes.filter((e) => e.outcome === 'DENIED' && !e.reason.startsWith('PERMISSION_DENIED'))).toEqual([]);
      expect(new Set(nodes.map((e) => e.kind))).toEqual(
        new Set(['startRollout', 'pauseRollout', 'resumeRollout', 'abortRollout', 'rollbackRollout', 'approveWave', 'refreshAppSet', 'setClusterLabels', 'issueBootstrapToken', 'applyAppSet']),
      );
      for (const who of ['operator-a', 'viewer-a'] as const) {
        const seen = await must<{ auditEvents: { nodes: { actor: string; kind: string; outcome: string; project: string | null }[] } }>(who, `{ auditEvents(first: 500) { nodes { actor kind outcome project } } }`);
        expect(seen.auditEvents.nodes.filter((e) => e.project !== 'team-a'), who).toEqual([]);
        expect(seen.auditEvents.nodes, who).toContainEqual({ actor: 'token:operator-a', kind: 'startRollout', outcome: 'SUCCESS', project: 'team-a' });
      }
      const events = await must<{ rollout: { events: { actor: string; kind: string }[] } }>('operator-a', `query($id: ID!) { rollout(id: $id) { events { actor kind } } }`, { id: operatorRollout });
      expect(events.rollout.events).toEqual(
        expect.arrayContaining([
          { actor: 'token:operator-a', kind: 'STARTED' },
          { actor: 'token:operator-a', kind: 'PAUSED' },
          { actor: 'token:operator-a', kind: 'RESUMED' },
        ]),
      );
      record('audit', { outcomes: [...new Set(nodes.map((e) => e.outcome))].sort(), kinds: [...new Set(nodes.map((e) => e.kind))].sort(), events: events.rollout.events });
    });

    it("revokes operator-a's token through one replica: every replica refuses it within 1 s, and its open subscriptions end", async () => {
      // Given one open rolloutProgress subscription of operator-a on every replica
      const query = `subscription($id: ID!) { rolloutProgress(id: $id) { phase } }`;
      const sockets = w.hubs.map((hub) =>
        openGraphqlSocket(hub.graphqlUrl, { connectionParams: { authorization: w.authorization['operator-a'] }, query, variables: { id: operatorRollout }, timeoutMs: 20_000 }),
      );
      let at = 0;
      const ends = sockets.map((socket) => socket.outcome.then((outcome) => ({ outcome, afterRevocationMs: Date.now() - at })));
      for (const socket of sockets) expect((await socket.firstNext).payload).toEqual({ data: { rolloutProgress: { phase: 'PAUSED' } } });
      // When an admin revokes the token through the first replica
      const revoked = answerOf(await postGraphql(w.hubs[0]!.graphqlUrl, w.authorization.admin, `mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: w.tokenIds.operatorA }));
      at = Date.now();
      expect(revoked.errors).toEqual([]);
      // Then every replica, asked directly, refuses it within the bound
      await eventually(
        async () => {
          const answers = await Promise.all(w.hubs.map(async (hub) => answerOf(await postGraphql(hub.graphqlUrl, w.authorization['operator-a'], `{ me { actor } }`))));
          return answers.every((a) => a.status === 401 && a.errors[0]?.code === 'UNAUTHENTICATED');
        },
        { timeoutMs: REVOCATION_BOUND_MS, intervalMs: 50, what: 'every replica refusing the revoked token' },
      );
      expect(Date.now() - at).toBeLessThanOrEqual(REVOCATION_BOUND_MS + 100);
      // And every open subscription ends, with an UNAUTHENTICATED error or a completion, and no further data
      const ended = await Promise.all(ends);
      for (const { outcome, afterRevocationMs } of ended) {
        expect(outcome.ended).not.toBe('timeout');
        expect(afterRevocationMs).toBeLessThanOrEqual(SUBSCRIPTION_END_BOUND_MS);
        expect(outcome.messages.filter((m) => m.type === 'next')).toHaveLength(1);
        expect(outcome.messages.slice(2), JSON.stringify(outcome.messages)).toEqual(outcome.ended === 'error' ? [{ id: '1', type: 'error', payload: [expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })] }] : []);
      }
      const outcomes = ended.map((e) => e.outcome);
      // And a new graphql-ws connection with it is refused
      const again = await openGraphqlSocket(w.url, { connectionParams: { authorization: w.authorization['operator-a'] }, query }).outcome;
      expect(summary(again)).toEqual({ acked: false, types: ['connection_error'], ended: 'closed' });
      record('revocation', { ended: [...new Set(outcomes.map((o) => o.ended))], again: summary(again) });
    });
  });
});

describe('row 19: one hub and three replicas', () => {
  it('answered every table row identically', () => {
    const one = transcripts.get(1);
    const three = transcripts.get(3);
    expect(one?.size).toBeGreaterThan(0);
    expect(Object.fromEntries(three ?? [])).toEqual(Object.fromEntries(one ?? []));
  });
});

/** Table rows as `[title, row]` pairs, so that test names carry the whole sentence (`$field` titles are cut at 40 characters). */
function titled<T>(rows: readonly T[], title: (row: T) => string): [string, T][] {
  return rows.map((row) => [title(row), row]);
}

/** What a client can tell apart about a graphql-ws conversation. */
function summary(outcome: SocketOutcome): { acked: boolean; types: string[]; ended: string } {
  return { acked: outcome.acked, types: outcome.messages.map((m) => m.type), ended: outcome.ended };
}
