import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';
import { parseLabelSelector } from '../core/app-set/parse-app-set';
import type { LabelSelector } from '../core/app-set/app-set-spec';
import { canRead, readableProjects, type Principal } from '../core/auth/principal';
import { DEFAULT_PROJECT, type ProjectRule } from '../core/projects/project-rule';
import { FlotillaError } from '../errors';
import { ProjectEntity } from './project.entity';

export interface ProjectCommand {
  readonly name: string;
  readonly clusterSelector?: unknown;
  readonly namespaces?: readonly string[] | null;
  readonly kinds?: readonly string[] | null;
  readonly clusterScoped?: boolean | null;
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A namespace pattern: a DNS-1123 label in which `*` may stand for any run of characters. */
const NAMESPACE_PATTERN = /^[a-z0-9*]([-a-z0-9*]{0,61}[a-z0-9*])?$/;
/** `Kind`, `group/Kind` or `/Kind`, with `*` globs. */
const KIND_PATTERN = /^([a-z0-9*]([-a-z0-9.*]{0,251}[a-z0-9*])?)?\/?[A-Za-z0-9*]{1,63}$/;
const MAX_PATTERNS = 100;

/** Projects: the tenants of the fleet. Admins manage them; everyone sees the ones they have a role in. */
@Injectable()
export class ProjectsService {
  constructor(private readonly db: DataSource) {}

  /**
   * Creates the `default` project on first start: every cluster, every namespace, every kind, cluster-
   * scoped objects allowed, so that AppSets that name no project work as before projects existed. An
   * admin restricts it with updateProject for a multi-tenant fleet.
   */
  async ensureDefault(): Promise<void> {
    await this.db
      .createQueryBuilder()
      .insert()
      .into(ProjectEntity)
      .values({ name: DEFAULT_PROJECT, clusterSelector: {}, namespaces: ['*'], kinds: [], clusterScoped: true })
      .orIgnore()
      .execute();
  }

  /** Every project as the hub's checks see it, by name. */
  async rules(): Promise<ProjectRule[]> {
    return (await this.db.getRepository(ProjectEntity).find({ order: { name: 'ASC' } })).map(toRule);
  }

  /** One project's rule, or null when it does not exist. */
  async rule(name: string, tx: EntityManager = this.db.manager): Promise<ProjectRule | null> {
    const found = await tx.findOneBy(ProjectEntity, { name });
    return found && toRule(found);
  }

  /** The projects the principal may see, by name. */
  async visible(principal: Principal): Promise<ProjectEntity[]> {
    const names = readableProjects(principal);
    const all = await this.db.getRepository(ProjectEntity).find({ order: { name: 'ASC' } });
    return names === 'all' ? all : all.filter((p) => names.includes(p.name));
  }

  /** A project the principal may see; NOT_FOUND otherwise (whether or not it exists). */
  async get(principal: Principal, name: string): Promise<ProjectEntity> {
    const found = canRead(principal, name) ? await this.db.getRepository(ProjectEntity).findOneBy({ name }) : null;
    if (!found) throw new FlotillaError('NOT_FOUND', `Project "${name.slice(0, 80)}" does not exist.`);
    return found;
  }

  async create(command: ProjectCommand): Promise<ProjectEntity> {
    if (!NAME.test(command.name)) throw new FlotillaError('INVALID_ARGUMENT', 'A project name is a DNS-1123 label: 1 to 63 lowercase letters, digits or "-".');
    const fields = checkFields(command, { clusterSelector: {}, namespaces: [], kinds: [], clusterScoped: false });
    return this.db.transaction(async (tx) => {
      if (await tx.existsBy(ProjectEntity, { name: command.name })) throw new FlotillaError('ALREADY_EXISTS', `Project "${command.name}" already exists.`);
      return tx.save(tx.create(ProjectEntity, { name: command.name, ...fields }));
    });
  }

  /** Changes the given fields; the caller re-stages the project's AppSets over the new rules. */
  async update(command: ProjectCommand): Promise<ProjectEntity> {
    const repo = this.db.getRepository(ProjectEntity);
    const current = await repo.findOneBy({ name: command.name });
    if (!current) throw new FlotillaError('NOT_FOUND', `Project "${command.name.slice(0, 80)}" does not exist.`);
    const fields = checkFields(command, current);
    await repo.update({ name: command.name }, fields);
    return repo.findOneByOrFail({ name: command.name });
  }

  /** Deletes a project that owns no AppSet. `default` cannot be deleted (restrict it instead). */
  async delete(name: string): Promise<void> {
    if (name === DEFAULT_PROJECT) throw new FlotillaError('FAILED_PRECONDITION', `Project "${DEFAULT_PROJECT}" cannot be deleted; restrict it with updateProject instead.`);
    await this.db.transaction(async (tx) => {
      const found = await tx.query(`SELECT name FROM projects WHERE name = $1 FOR UPDATE`, [name]);
      if ((found as unknown[]).length === 0) throw new FlotillaError('NOT_FOUND', `Project "${name.slice(0, 80)}" does not exist.`);
      const owned = await tx.count(AppSetEntity, { where: { project: name } });
      if (owned > 0) throw new FlotillaError('FAILED_PRECONDITION', `Project "${name}" still owns ${owned} AppSet(s); move or delete them first.`);
      await tx.query(`UPDATE api_tokens SET revoked_at = now() WHERE project = $1 AND revoked_at IS NULL`, [name]);
      await tx.delete(ProjectEntity, { name });
    });
  }

  /** Names of the AppSets of a project. */
  async appSetNames(project: string): Promise<string[]> {
    return (await this.db.getRepository(AppSetEntity).find({ select: { name: true }, where: { project }, order: { name: 'ASC' } })).map((a) => a.name);
  }
}

function toRule(project: ProjectEntity): ProjectRule {
  return { name: project.name, clusterSelector: project.clusterSelector, namespaces: project.namespaces, kinds: project.kinds, clusterScoped: project.clusterScoped };
}

interface ProjectFields {
  clusterSelector: LabelSelector;
  namespaces: string[];
  kinds: string[];
  clusterScoped: boolean;
}

/** The command's fields over `base`, checked; INVALID_ARGUMENT lists every problem. */
function checkFields(command: ProjectCommand, base: ProjectFields): ProjectFields {
  const problems: string[] = [];
  let clusterSelector = base.clusterSelector;
  if (command.clusterSelector !== undefined && command.clusterSelector !== null) {
    const parsed = parseLabelSelector(command.clusterSelector, 'clusterSelector');
    if (parsed.ok) clusterSelector = parsed.value;
    else problems.push(...parsed.issues.map((i) => i.message));
  }
  const patterns = (field: string, values: readonly string[] | null | undefined, pattern: RegExp, fallback: string[]): string[] => {
    if (values === undefined || values === null) return fallback;
    if (values.length > MAX_PATTERNS) problems.push(`${field} lists ${values.length} patterns; at most ${MAX_PATTERNS}.`);
    values.forEach((value, index) => {
      if (!pattern.test(value)) problems.push(`${field}[${index}] "${value.slice(0, 80)}" is not a valid pattern.`);
    });
    return [...new Set(values)].sort();
  };
  const namespaces = patterns('namespaces', command.namespaces, NAMESPACE_PATTERN, base.namespaces);
  const kinds = patterns('kinds', command.kinds, KIND_PATTERN, base.kinds);
  if (namespaces.length === 0) problems.push('namespaces must list at least one namespace or pattern (e.g. "team-a-*").');
  if (problems.length > 0) throw new FlotillaError('INVALID_ARGUMENT', `The project is invalid: ${problems.join(' ')}`);
  return { clusterSelector, namespaces, kinds, clusterScoped: command.clusterScoped ?? base.clusterScoped };
}
