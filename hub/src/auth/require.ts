import { canOperate, type Principal } from '../core/auth/principal';
import { FlotillaError } from '../errors';

/** Throws PERMISSION_DENIED unless the principal is a fleet admin. `what` completes "only an admin may ...". */
export function requireAdmin(principal: Principal, what: string): void {
  if (!principal.admin) throw new FlotillaError('PERMISSION_DENIED', `Only an ADMIN may ${what}.`);
}

/** Throws PERMISSION_DENIED unless the principal may change what belongs to `project`. */
export function requireOperator(principal: Principal, project: string, what: string): void {
  if (!canOperate(principal, project)) throw new FlotillaError('PERMISSION_DENIED', `${principal.actor} may not ${what}: it needs the OPERATOR role in project "${project}".`);
}
