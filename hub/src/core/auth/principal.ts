/**
 * Who calls the API, and what each role may do. Pure: the edge (auth/) builds a {@link Principal} once
 * per request from an API token or an OIDC JWT; resolvers and services receive it explicitly and ask
 * these functions. Nothing here reads a request, a clock or a database.
 */

/** Roles, from most to least powerful. `ADMIN` is fleet-wide; the others are per project. */
export type Role = 'ADMIN' | 'OPERATOR' | 'VIEWER';
export type ProjectRole = Exclude<Role, 'ADMIN'>;

export const ROLES: readonly Role[] = ['ADMIN', 'OPERATOR', 'VIEWER'];

/** An authenticated caller. */
export interface Principal {
  /** `system`: the hub acting on its own (a Git source's sync), never a caller of the API. */
  readonly kind: 'token' | 'oidc' | 'system';
  /** The API token's id, or the OIDC subject. */
  readonly id: string;
  /** The API token's name, or the OIDC display name (preferred_username, email or subject). */
  readonly name: string;
  /** The OIDC issuer; null for API tokens. */
  readonly issuer: string | null;
  /** How audit rows and rollout events name it: `token:<name>` or `oidc:<subject>`. */
  readonly actor: string;
  /** Fleet-wide admin: sees and may do everything. */
  readonly admin: boolean;
  /** Per-project roles (empty for an admin, who needs none). */
  readonly projects: Readonly<Record<string, ProjectRole>>;
  /** When the credential stops being valid; null: never. */
  readonly expiresAt: Date | null;
}

/** The hub acting for a Git source: an OPERATOR of the source's project, named `git:<source>` in the audit trail. */
export function gitSourcePrincipal(source: string, project: string): Principal {
  return { kind: 'system', id: `git-source:${source}`, name: source, issuer: null, actor: `git:${source}`, admin: false, projects: { [project]: 'OPERATOR' }, expiresAt: null };
}

/** What an API token row says about its holder. */
export interface TokenGrant {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** The project of an OPERATOR or VIEWER token; null for ADMIN. */
  readonly project: string | null;
  readonly expiresAt: Date | null;
}

/** The principal of an API token. */
export function tokenPrincipal(token: TokenGrant): Principal {
  const admin = token.role === 'ADMIN';
  return {
    kind: 'token',
    id: token.id,
    name: token.name,
    issuer: null,
    actor: `token:${token.name}`,
    admin,
    projects: !admin && token.project ? { [token.project]: token.role as ProjectRole } : {},
    expiresAt: token.expiresAt,
  };
}

/** One entry of the hub's OIDC configuration: members of `group` get `role` (in `project`, unless ADMIN). */
export interface RoleBinding {
  readonly group: string;
  readonly role: Role;
  readonly project?: string;
}

/** What an OIDC provider said about its subject, once the JWT is verified. */
export interface OidcClaims {
  readonly subject: string;
  readonly issuer: string;
  readonly name: string;
  readonly groups: readonly string[];
  readonly expiresAt: Date;
}

/**
 * The principal of a verified OIDC identity: the union of the bindings its groups match, keeping the
 * stronger role where two bindings name one project. Null when no binding matches (no role here).
 */
export function oidcPrincipal(claims: OidcClaims, bindings: readonly RoleBinding[]): Principal | null {
  const groups = new Set(claims.groups);
  const matched = bindings.filter((binding) => groups.has(binding.group));
  if (matched.length === 0) return null;
  const admin = matched.some((binding) => binding.role === 'ADMIN');
  const projects: Record<string, ProjectRole> = {};
  if (!admin) {
    for (const binding of matched) {
      if (binding.role === 'ADMIN' || !binding.project) continue;
      if (projects[binding.project] !== 'OPERATOR') projects[binding.project] = binding.role;
    }
  }
  return { kind: 'oidc', id: claims.subject, name: claims.name, issuer: claims.issuer, actor: `oidc:${claims.subject}`, admin, projects, expiresAt: claims.expiresAt };
}

/** The principal's role in `project` (ADMIN for an admin), or null when it has none there. */
export function roleIn(principal: Principal, project: string): Role | null {
  if (principal.admin) return 'ADMIN';
  return Object.prototype.hasOwnProperty.call(principal.projects, project) ? principal.projects[project]! : null;
}

/** True when the principal may read what belongs to `project`. */
export function canRead(principal: Principal, project: string): boolean {
  return roleIn(principal, project) !== null;
}

/** True when the principal may change what belongs to `project` (AppSets, rollouts, cluster labels). */
export function canOperate(principal: Principal, project: string): boolean {
  const role = roleIn(principal, project);
  return role === 'ADMIN' || role === 'OPERATOR';
}

/** The projects whose objects the principal may read: `all` for an admin, else the names, sorted. */
export function readableProjects(principal: Principal): 'all' | string[] {
  return principal.admin ? 'all' : Object.keys(principal.projects).sort();
}

/** True when the credential has expired at `now`. */
export function isExpired(principal: Principal, now: Date): boolean {
  return principal.expiresAt !== null && principal.expiresAt.getTime() <= now.getTime();
}

/**
 * The hub acting on its own behalf (re-staging after a deregistration, the demo fleet): fleet-wide,
 * named `actor` in audit rows. Never the result of authenticating a request.
 */
export function hubPrincipal(actor: string): Principal {
  return { kind: 'token', id: '', name: actor, issuer: null, actor, admin: true, projects: {}, expiresAt: null };
}
