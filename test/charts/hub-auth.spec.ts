import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../hub/src/config/hub-config.js';
import { CHARTS, ensureHelm, helm, render, valuesArgs, type Manifest } from './helm.js';
import { byKind, containerOf, envOf, resolveEnv } from './rendered.js';

// The hub chart's API authentication: the bootstrap admin token reaches the hub only through a Secret,
// and the OIDC values become the hub's FLOTILLA_OIDC_* variables. Lint, Kubernetes schemas and the
// hardened pod of hub-auth and hub-admin-token are checked with every other case in charts.spec.ts.

beforeAll(() => ensureHelm(), 300_000);

const INLINE_TOKEN = 'flt_api_Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u';
const SET_TOKEN = 'flt_api_c2V0LW9uLXRoZS1jb21tYW5kLWxpbmUtMDEyMzQ1Njc4OQ';
const OIDC_VARIABLES = ['FLOTILLA_OIDC_ISSUER', 'FLOTILLA_OIDC_AUDIENCE', 'FLOTILLA_OIDC_JWKS_URL', 'FLOTILLA_OIDC_GROUPS_CLAIM', 'FLOTILLA_OIDC_ROLE_BINDINGS', 'FLOTILLA_OIDC_ALGORITHMS'];

/** What the kubelet would find in the Secrets these cases refer to: the database URL's and the admin token's. */
const secrets = (adminToken = INLINE_TOKEN) => ({
  'flotilla-db': 'postgresql://from-secret',
  'flotilla-flotilla-hub-database': 'postgresql://from-secret',
  'flotilla-admin': adminToken,
  'flotilla-flotilla-hub-admin-token': adminToken,
});

/** The decoded entries of a rendered Secret. */
const secretData = (secret: Manifest): Record<string, string> =>
  Object.fromEntries(Object.entries(secret['data'] as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));

describe('flotilla-hub: the bootstrap admin token', () => {
  it.each([
    {
      what: 'from an existing Secret is a secretKeyRef to it, and the chart makes no Secret',
      values: ['hub-auth'],
      args: [],
      ref: { name: 'flotilla-admin', key: 'admin-token' },
      chartSecret: undefined,
    },
    {
      what: 'given inline becomes a chart-made Secret that the Deployment refers to',
      values: ['hub-admin-token'],
      args: [],
      ref: { name: 'flotilla-flotilla-hub-admin-token', key: 'token' },
      chartSecret: { token: INLINE_TOKEN },
    },
    {
      what: 'given inline with --set under another key is stored under that key',
      values: ['hub-minimal'],
      args: ['--set', `auth.bootstrapAdminToken.value=${SET_TOKEN}`, '--set', 'auth.bootstrapAdminToken.key=admin'],
      ref: { name: 'flotilla-flotilla-hub-admin-token', key: 'admin' },
      chartSecret: { admin: SET_TOKEN },
    },
    {
      what: 'left unset sets no variable, so that the hub generates one',
      values: ['hub-minimal'],
      args: [],
      ref: undefined,
      chartSecret: undefined,
    },
  ])('a token $what', ({ values, args, ref, chartSecret }) => {
    const manifests = render('flotilla-hub', values, args);
    const container = containerOf(manifests);
    const entry = envOf(container, 'FLOTILLA_BOOTSTRAP_ADMIN_TOKEN');
    expect(entry?.value).toBeUndefined();
    expect(entry?.valueFrom?.secretKeyRef).toEqual(ref);
    const adminSecrets = byKind(manifests, 'Secret').filter((m) => m.metadata.name.endsWith('-admin-token'));
    expect(adminSecrets.map(secretData)).toEqual(chartSecret === undefined ? [] : [chartSecret]);
    // Nowhere else: not in the Deployment (env, annotations), not in a ConfigMap.
    const others = manifests.filter((m) => !adminSecrets.includes(m));
    for (const token of [INLINE_TOKEN, SET_TOKEN]) expect(JSON.stringify(others)).not.toContain(token);
    expect(byKind(manifests, 'ConfigMap')).toEqual([]);
    // The hub's own loader accepts the token the Secret holds.
    expect(() => loadHubConfig(resolveEnv(container, secrets(chartSecret && Object.values(chartSecret)[0])))).not.toThrow();
  });
});

describe('flotilla-hub: OpenID Connect', () => {
  it.each([
    { what: 'no issuer leaves OIDC off: no FLOTILLA_OIDC_* variable', values: ['hub-minimal'], args: [], env: {} },
    {
      what: 'an issuer and an audience only: the default groups claim, no bindings, the hub’s own JWKS discovery and algorithms',
      values: ['hub-minimal'],
      args: ['--set', 'auth.oidc.issuer=https://idp.example.com', '--set', 'auth.oidc.audience=flotilla'],
      env: { FLOTILLA_OIDC_ISSUER: 'https://idp.example.com', FLOTILLA_OIDC_AUDIENCE: 'flotilla', FLOTILLA_OIDC_GROUPS_CLAIM: 'groups', FLOTILLA_OIDC_ROLE_BINDINGS: '[]' },
    },
    {
      what: 'every setting (hub-auth): the bindings as a JSON array, the algorithms as a comma list',
      values: ['hub-auth'],
      args: [],
      env: {
        FLOTILLA_OIDC_ISSUER: 'https://login.example.com/realms/fleet',
        FLOTILLA_OIDC_AUDIENCE: 'flotilla-hub',
        FLOTILLA_OIDC_JWKS_URL: 'https://login.example.com/realms/fleet/protocol/openid-connect/certs',
        FLOTILLA_OIDC_GROUPS_CLAIM: 'roles',
        FLOTILLA_OIDC_ROLE_BINDINGS: JSON.stringify([
          { group: 'platform-admins', role: 'ADMIN' },
          { group: 'shop-team', project: 'shop', role: 'OPERATOR' },
          { group: 'auditors', project: 'shop', role: 'VIEWER' },
        ]),
        FLOTILLA_OIDC_ALGORITHMS: 'RS256,ES256',
      },
    },
  ])('$what', ({ values, args, env }) => {
    const container = containerOf(render('flotilla-hub', values, args));
    const rendered = resolveEnv(container, 'from-a-secret');
    const oidc = Object.fromEntries(Object.entries(rendered).filter(([name]) => OIDC_VARIABLES.includes(name)));
    expect(oidc).toEqual(env);
    for (const name of OIDC_VARIABLES) expect(envOf(container, name)?.valueFrom, name).toBeUndefined();
    // The hub's own loader takes the chart's env as it is.
    expect(() => loadHubConfig(resolveEnv(container, secrets()))).not.toThrow();
  });

  it('keeps a role binding exactly as written: group, role and project, and nothing made up', () => {
    const args = ['--set', 'auth.oidc.issuer=https://idp.example.com', '--set', 'auth.oidc.audience=flotilla', '--set-json', 'auth.oidc.roleBindings=[{"group":"cn=ops,ou=groups","role":"OPERATOR","project":"edge"}]'];
    const rendered = resolveEnv(containerOf(render('flotilla-hub', ['hub-minimal'], args)), '');
    expect(JSON.parse(rendered['FLOTILLA_OIDC_ROLE_BINDINGS']!)).toEqual([{ group: 'cn=ops,ou=groups', role: 'OPERATOR', project: 'edge' }]);
  });
});

describe('flotilla-hub refuses authentication values', () => {
  it('refuses a role binding with a role other than ADMIN, OPERATOR or VIEWER, naming the field, in lint and template', () => {
    for (const command of ['template', 'lint'] as const) {
      const values = valuesArgs(['invalid-hub-bad-oidc-role']);
      const run = helm(command === 'template' ? ['template', 'flotilla', join(CHARTS, 'flotilla-hub'), ...values] : ['lint', join(CHARTS, 'flotilla-hub'), ...values]);
      expect(run.status, `helm ${command}`).not.toBe(0);
      expect(run.stderr + run.stdout, `helm ${command}`).toMatch(/at '\/auth\/oidc\/roleBindings\/0\/role': value must be one of 'ADMIN', 'OPERATOR', 'VIEWER'/);
    }
  });

  const DB = ['--set', 'database.url=postgres://db/f'];
  const OIDC = ['--set', 'auth.oidc.issuer=https://idp.example.com', '--set', 'auth.oidc.audience=flotilla'];
  it.each([
    { what: 'a token that is not an API token', args: [...DB, '--set', 'auth.bootstrapAdminToken.value=hunter2'], message: /at '\/auth\/bootstrapAdminToken\/value'/ },
    { what: 'a token longer than 256 characters after the prefix', args: [...DB, '--set', `auth.bootstrapAdminToken.value=flt_api_${'a'.repeat(257)}`], message: /at '\/auth\/bootstrapAdminToken\/value'/ },
    { what: 'a token both inline and from a Secret', args: [...DB, '--set', `auth.bootstrapAdminToken.value=${SET_TOKEN}`, '--set', 'auth.bootstrapAdminToken.existingSecret=admin'], message: /auth.bootstrapAdminToken: set either value or existingSecret/ },
    { what: 'an issuer without an audience', args: [...DB, '--set', 'auth.oidc.issuer=https://idp.example.com'], message: /auth.oidc.audience is required with auth.oidc.issuer/ },
    { what: 'role bindings without an issuer', args: [...DB, '--set-json', 'auth.oidc.roleBindings=[{"group":"ops","role":"ADMIN"}]'], message: /auth.oidc.issuer is required with/ },
    { what: 'an issuer that is not a URL', args: [...DB, '--set', 'auth.oidc.issuer=idp.example.com', '--set', 'auth.oidc.audience=flotilla'], message: /at '\/auth\/oidc\/issuer'/ },
    { what: 'a symmetric algorithm', args: [...DB, ...OIDC, '--set-json', 'auth.oidc.algorithms=["HS256"]'], message: /at '\/auth\/oidc\/algorithms\/0'/ },
    { what: 'a VIEWER binding without a project', args: [...DB, ...OIDC, '--set-json', 'auth.oidc.roleBindings=[{"group":"ops","role":"VIEWER"}]'], message: /at '\/auth\/oidc\/roleBindings\/0': missing property 'project'/ },
    { what: 'an ADMIN binding with a project', args: [...DB, ...OIDC, '--set-json', 'auth.oidc.roleBindings=[{"group":"ops","role":"ADMIN","project":"shop"}]'], message: /auth.oidc.roleBindings\[0\]: an ADMIN binding is fleet-wide and takes no project/ },
    { what: 'a project that is not a DNS-1123 label', args: [...DB, ...OIDC, '--set-json', 'auth.oidc.roleBindings=[{"group":"ops","role":"OPERATOR","project":"Shop Front"}]'], message: /at '\/auth\/oidc\/roleBindings\/0\/project'/ },
    { what: 'an issuer with credentials in it', args: [...DB, '--set', 'auth.oidc.issuer=https://user:pw@idp.example.com', '--set', 'auth.oidc.audience=flotilla'], message: /at '\/auth\/oidc\/issuer'/ },
    { what: 'a role binding without a group', args: [...DB, ...OIDC, '--set-json', 'auth.oidc.roleBindings=[{"role":"VIEWER","project":"shop"}]'], message: /at '\/auth\/oidc\/roleBindings\/0': missing property 'group'/ },
    { what: 'an unknown key in a role binding', args: [...DB, ...OIDC, '--set-json', 'auth.oidc.roleBindings=[{"group":"ops","role":"VIEWER","project":"shop","namespace":"x"}]'], message: /additional properties 'namespace' not allowed/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-hub'), ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});
