import { describe, expect, it } from 'vitest';
import { canOperate, canRead, isExpired, oidcPrincipal, readableProjects, roleIn, tokenPrincipal, type OidcClaims, type Principal, type RoleBinding } from './principal';

const claims = (groups: string[]): OidcClaims => ({ subject: 'alice', issuer: 'https://idp', name: 'alice@example.com', groups, expiresAt: new Date('2030-01-01T00:00:00Z') });
const bindings: RoleBinding[] = [
  { group: 'platform', role: 'ADMIN' },
  { group: 'team-a-dev', role: 'OPERATOR', project: 'team-a' },
  { group: 'team-a-ro', role: 'VIEWER', project: 'team-a' },
  { group: 'team-b-ro', role: 'VIEWER', project: 'team-b' },
];

describe('tokenPrincipal', () => {
  it.each<{ name: string; role: 'ADMIN' | 'OPERATOR' | 'VIEWER'; project: string | null; admin: boolean; projects: Record<string, string> }>([
    { name: 'an ADMIN token is fleet-wide and names no project', role: 'ADMIN', project: null, admin: true, projects: {} },
    { name: 'an OPERATOR token operates its one project', role: 'OPERATOR', project: 'team-a', admin: false, projects: { 'team-a': 'OPERATOR' } },
    { name: 'a VIEWER token reads its one project', role: 'VIEWER', project: 'team-a', admin: false, projects: { 'team-a': 'VIEWER' } },
  ])('$name', ({ role, project, admin, projects }) => {
    const principal = tokenPrincipal({ id: 'id-1', name: 'ci', role, project, expiresAt: null });
    expect(principal).toMatchObject({ kind: 'token', actor: 'token:ci', admin, projects, issuer: null });
  });
});

describe('oidcPrincipal', () => {
  it.each<{ name: string; groups: string[]; want: Pick<Principal, 'admin' | 'projects'> | null }>([
    { name: 'no matching group gives no principal', groups: ['someone-else'], want: null },
    { name: 'an ADMIN binding makes a fleet admin', groups: ['platform', 'team-b-ro'], want: { admin: true, projects: {} } },
    { name: 'the stronger role wins where two bindings name one project', groups: ['team-a-ro', 'team-a-dev'], want: { admin: false, projects: { 'team-a': 'OPERATOR' } } },
    { name: 'roles in several projects add up', groups: ['team-a-ro', 'team-b-ro'], want: { admin: false, projects: { 'team-a': 'VIEWER', 'team-b': 'VIEWER' } } },
  ])('$name', ({ groups, want }) => {
    const principal = oidcPrincipal(claims(groups), bindings);
    if (want === null) expect(principal).toBeNull();
    else expect(principal).toMatchObject({ kind: 'oidc', actor: 'oidc:alice', issuer: 'https://idp', ...want });
  });
});

describe('what a principal may do in a project', () => {
  const admin = tokenPrincipal({ id: '1', name: 'root', role: 'ADMIN', project: null, expiresAt: null });
  const operator = tokenPrincipal({ id: '2', name: 'dev', role: 'OPERATOR', project: 'team-a', expiresAt: null });
  const viewer = tokenPrincipal({ id: '3', name: 'ro', role: 'VIEWER', project: 'team-a', expiresAt: null });
  it.each<{ name: string; principal: Principal; project: string; read: boolean; operate: boolean; role: string | null }>([
    { name: 'an admin reads and operates every project', principal: admin, project: 'anything', read: true, operate: true, role: 'ADMIN' },
    { name: 'an operator reads and operates its project', principal: operator, project: 'team-a', read: true, operate: true, role: 'OPERATOR' },
    { name: 'an operator neither reads nor operates another project', principal: operator, project: 'team-b', read: false, operate: false, role: null },
    { name: 'a viewer reads but does not operate its project', principal: viewer, project: 'team-a', read: true, operate: false, role: 'VIEWER' },
    { name: 'a project named like an Object property is not granted by accident', principal: viewer, project: 'constructor', read: false, operate: false, role: null },
  ])('$name', ({ principal, project, read, operate, role }) => {
    expect({ read: canRead(principal, project), operate: canOperate(principal, project), role: roleIn(principal, project) }).toEqual({ read, operate, role });
  });

  it('lists readable projects: all for an admin, the granted ones otherwise', () => {
    expect(readableProjects(admin)).toBe('all');
    expect(readableProjects(viewer)).toEqual(['team-a']);
  });
});

describe('isExpired', () => {
  const at = (expiresAt: string | null) => tokenPrincipal({ id: '1', name: 'x', role: 'ADMIN', project: null, expiresAt: expiresAt ? new Date(expiresAt) : null });
  it.each([
    { name: 'a token without expiry never expires', principal: at(null), want: false },
    { name: 'a token is valid before its expiry', principal: at('2030-01-01T00:00:01Z'), want: false },
    { name: 'a token has expired at its expiry instant', principal: at('2030-01-01T00:00:00Z'), want: true },
  ])('$name', ({ principal, want }) => {
    expect(isExpired(principal, new Date('2030-01-01T00:00:00Z'))).toBe(want);
  });
});
