import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { byId, byName, fails, issues, named, notFound, type LookalikeRow } from '../harness/lookalike-rows.js';
import { openGraphqlSocket, postGraphql } from '../harness/probes.js';
import { rootFieldOperations } from '../harness/root-operations.js';
import { answerOf, scrub, summary, titled, type Answer } from '../harness/security-answers.js';
import { describeSecurityWorlds } from '../harness/security-suite.js';
import { appSetYaml, CONFIG_MAP, listAppSet, TEAM_A_MUTATIONS, type Who, type World } from '../harness/security-world.js';

/**
 * RELIABILITY.md row 12 (no cross-tenant read or write), roles within a project, and the audit trail
 * and revocation that follow from them, once with one hub and once with three replicas over one
 * database behind a TCP balancer (row 19: the tables must come out identical, which the last test
 * checks). The describe blocks build on each other: the audit test reads the refused attempts of
 * row 12 and the rollout of the operator test, and revocation comes last. The tenants are those of
 * {@link SecurityWorld}.
 */

const MUTATIONS = rootFieldOperations(readFileSync(new URL('../../hub/schema.gql', import.meta.url), 'utf8'))
  .filter((f) => f.type === 'mutation')
  .map((f) => f.field);
/** How soon a revocation made through one replica must hold on every replica. */
const REVOCATION_BOUND_MS = 1_000;
/** How soon an open subscription of a revoked token must end. */
const SUBSCRIPTION_END_BOUND_MS = 5_000;

describeSecurityWorlds((suite) => {
  let w: World;
  /** The rollout operator-a starts (and leaves PAUSED) in the operator test; the revocation test watches it. */
  let operatorRollout = '';
  const { ask, must, record } = suite;

  beforeAll(() => {
    w = suite.world();
  });

  describe('row 12: no cross-tenant read or write; out of scope answers like missing', () => {
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
      expect(Object.keys(TEAM_A_MUTATIONS).sort()).toEqual([...MUTATIONS].sort());
    });

    it.each(MUTATIONS)('viewer-a calling %s on team-a objects is PERMISSION_DENIED', async (mutation) => {
      const call = TEAM_A_MUTATIONS[mutation];
      if (!call) throw new Error(`no viewer call for ${mutation}`);
      const answer = await ask('viewer-a', ...call(w));
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
