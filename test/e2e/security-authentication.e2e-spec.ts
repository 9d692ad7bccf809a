import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { parse, validate } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, TEST_ADMIN_TOKEN } from '../harness/auth.js';
import { forgeToken, type ForgedTokenKind } from '../harness/oidc.js';
import { getGraphql, openGraphqlSocket, postGraphql, probeAgentStream } from '../harness/probes.js';
import { rootFieldOperations, schemaOf } from '../harness/root-operations.js';
import { answerOf, summary, titled } from '../harness/security-answers.js';
import { describeSecurityWorlds } from '../harness/security-suite.js';
import { AUDIENCE, TEAM_A_GROUP, type World } from '../harness/security-world.js';

/**
 * RELIABILITY.md row 14 (anonymous and bad credentials on every entry point), once with one hub and
 * once with three replicas over one database behind a TCP balancer (row 19: the tables must come out
 * identical, which the last test checks). The hubs are real processes; OIDC tokens come from a real
 * OpenID provider on loopback. The tenants are those of {@link SecurityWorld}.
 */

const SDL = readFileSync(new URL('../../hub/schema.gql', import.meta.url), 'utf8');
const ROOT_FIELDS = rootFieldOperations(SDL);

describeSecurityWorlds((suite) => {
  let w: World;
  const { ask, must, record } = suite;

  beforeAll(() => {
    w = suite.world();
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
});
