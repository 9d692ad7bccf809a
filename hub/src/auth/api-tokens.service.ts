import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { tokenPrincipal, type Principal, type Role } from '../core/auth/principal';
import { FlotillaError } from '../errors';
import { ProjectEntity } from '../projects/project.entity';
import { ApiTokenEntity } from './api-token.entity';
import { parseExpiresIn } from './expires-in';

/** The prefix of every API token (secret scanners can look for it). */
export const API_TOKEN_PREFIX = 'flt_api_';
/** Name of the fleet-admin token the hub makes for itself. */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';
/** File in the data folder that holds the generated admin token (mode 0600). */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** How stale `last_used_at` may get before a request refreshes it (one write per token per minute at most). */
const LAST_USED_RESOLUTION_MS = 60_000;
const TOKEN_NAME = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/;

export interface CreateApiTokenCommand {
  readonly name: string;
  readonly role: Role;
  readonly project?: string | null;
  readonly expiresIn?: string | null;
}

/** What the bootstrap step did, for the start-up log. */
export interface BootstrapAdmin {
  /** The secret, when this start generated it (shown once). */
  readonly generated: string | undefined;
  /** Where the generated secret was written. */
  readonly file: string;
}

/** sha256 (hex) of a token: what is stored and looked up. Tokens are 256-bit random, so no salt or KDF is needed. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function newSecret(): string {
  return `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** API tokens: creation (the secret shown once), listing, revocation, and authentication by hash. */
@Injectable()
export class ApiTokensService {
  private readonly log = new Logger('Auth');

  constructor(
    private readonly db: DataSource,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  /** Creates a token; returns the secret once. ADMIN tokens are fleet-wide; others name an existing project. */
  async create(command: CreateApiTokenCommand, createdBy: string, now: Date): Promise<{ token: string; apiToken: ApiTokenEntity }> {
    if (!TOKEN_NAME.test(command.name)) throw new FlotillaError('INVALID_ARGUMENT', 'A token name is 1 to 63 lowercase letters, digits, "-", "_" or ".", starting and ending with a letter or digit.');
    if (command.name === BOOTSTRAP_TOKEN_NAME) throw new FlotillaError('INVALID_ARGUMENT', `The name "${BOOTSTRAP_TOKEN_NAME}" is reserved for the hub's own admin token.`);
    const project = command.project ?? null;
    if (command.role === 'ADMIN' && project !== null) throw new FlotillaError('INVALID_ARGUMENT', 'An ADMIN token is fleet-wide: give no project.');
    if (command.role !== 'ADMIN' && project === null) throw new FlotillaError('INVALID_ARGUMENT', `A ${command.role} token needs a project.`);
    const lifetimeMs = parseExpiresIn(command.expiresIn ?? undefined);
    if (project !== null && !(await this.db.getRepository(ProjectEntity).existsBy({ name: project }))) {
      throw new FlotillaError('NOT_FOUND', `Project "${project}" does not exist.`);
    }
    const token = newSecret();
    const apiToken = await this.db.getRepository(ApiTokenEntity).save({
      name: command.name,
      role: command.role,
      project,
      secretHash: hashToken(token),
      createdBy,
      expiresAt: new Date(now.getTime() + lifetimeMs),
      revokedAt: null,
      lastUsedAt: null,
    });
    return { token, apiToken };
  }

  async list(): Promise<ApiTokenEntity[]> {
    return this.db.getRepository(ApiTokenEntity).find({ order: { createdAt: 'ASC', name: 'ASC' } });
  }

  /** Revokes a token for good; every replica refuses it from its next request (tokens are looked up per request). */
  async revoke(id: string, now: Date): Promise<ApiTokenEntity> {
    const repo = this.db.getRepository(ApiTokenEntity);
    const found = UUID.test(id) ? await repo.findOneBy({ id }) : null;
    if (!found) throw new FlotillaError('NOT_FOUND', `API token "${id.slice(0, 80)}" does not exist.`);
    if (!found.revokedAt) await repo.update({ id }, { revokedAt: now });
    return repo.findOneByOrFail({ id });
  }

  /** The principal of a presented token, or null (unknown, revoked or expired: the three look the same). */
  async authenticate(secret: string, now: Date): Promise<Principal | null> {
    const row = await this.db.getRepository(ApiTokenEntity).findOneBy({ secretHash: hashToken(secret) });
    if (!row || !isUsable(row, now)) return null;
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.getRepository(ApiTokenEntity).update({ id: row.id }, { lastUsedAt: now });
    }
    return tokenPrincipal(row);
  }

  /** True while the token behind a principal is neither revoked nor expired (for long-lived subscriptions). */
  async isActive(id: string, now: Date): Promise<boolean> {
    const row = UUID.test(id) ? await this.db.getRepository(ApiTokenEntity).findOneBy({ id }) : null;
    return row !== null && isUsable(row, now);
  }

  /**
   * Makes sure a fleet-admin token exists. FLOTILLA_BOOTSTRAP_ADMIN_TOKEN presets it (replacing an
   * earlier one, unless that very value was revoked). Otherwise the first start generates one and
   * writes it to `<dataDir>/admin-token` (0600). Safe when several replicas start at once.
   */
  async ensureBootstrapAdmin(): Promise<BootstrapAdmin> {
    const file = join(this.config.dataDir, ADMIN_TOKEN_FILE);
    const repo = this.db.getRepository(ApiTokenEntity);
    const preset = this.config.auth.bootstrapAdminToken;
    if (preset !== undefined) {
      const hash = hashToken(preset);
      await this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['api-token:bootstrap']);
        const current = await tx.findOneBy(ApiTokenEntity, { bootstrap: true });
        if (current?.secretHash === hash) {
          if (current.revokedAt) this.log.warn('The token in FLOTILLA_BOOTSTRAP_ADMIN_TOKEN was revoked and stays revoked: set a new value to get a working admin token.');
          return;
        }
        if (current) await tx.delete(ApiTokenEntity, { id: current.id });
        await tx.insert(ApiTokenEntity, { name: BOOTSTRAP_TOKEN_NAME, role: 'ADMIN', project: null, secretHash: hash, bootstrap: true, createdBy: 'hub', expiresAt: null });
        this.log.log('The fleet-admin token is the one in FLOTILLA_BOOTSTRAP_ADMIN_TOKEN.');
      });
      return { generated: undefined, file };
    }
    const token = newSecret();
    await this.db
      .createQueryBuilder()
      .insert()
      .into(ApiTokenEntity)
      .values({ name: BOOTSTRAP_TOKEN_NAME, role: 'ADMIN', project: null, secretHash: hashToken(token), bootstrap: true, createdBy: 'hub', expiresAt: null })
      .orIgnore()
      .execute();
    // Another replica (or an earlier start) made it first: only the one whose row landed shows a secret.
    if (!(await repo.existsBy({ secretHash: hashToken(token) }))) return { generated: undefined, file };
    mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return { generated: token, file };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isUsable(row: ApiTokenEntity, now: Date): boolean {
  return row.revokedAt === null && (row.expiresAt === null || row.expiresAt.getTime() > now.getTime());
}
