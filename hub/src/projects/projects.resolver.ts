import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AppSetsService } from '../app-sets/app-sets.service';
import { requireAdmin } from '../auth/require';
import { Audit, Caller, type AuditNote } from '../auth/request-context';
import { ClustersService } from '../clusters/clusters.service';
import type { Principal } from '../core/auth/principal';
import { matchesSelector } from '../core/generators/label-selector';
import { CreateProjectInput, ProjectModel, UpdateProjectInput } from './project.model';
import { ProjectsService } from './projects.service';

@Resolver(() => ProjectModel)
export class ProjectsResolver {
  constructor(
    private readonly projectService: ProjectsService,
    private readonly appSetService: AppSetsService,
    private readonly clusterService: ClustersService,
  ) {}

  @Query(() => [ProjectModel], { description: 'The projects the caller has a role in (an admin: all), by name.' })
  async projects(@Caller() caller: Principal): Promise<ProjectModel[]> {
    return (await this.projectService.visible(caller)).map(ProjectModel.from);
  }

  // Nullable only so that a batch keeps its other fields: an unknown (or invisible) project is a NOT_FOUND error.
  @Query(() => ProjectModel, { nullable: true, description: 'One project by name; NOT_FOUND when the caller has no role in a project of that name.' })
  async project(@Caller() caller: Principal, @Args('name') name: string): Promise<ProjectModel> {
    return ProjectModel.from(await this.projectService.get(caller, name));
  }

  @ResolveField(() => [String], { description: 'Names of the registered clusters its selector matches.' })
  async clusters(@Parent() project: ProjectModel): Promise<string[]> {
    return (await this.clusterService.snapshot()).filter((c) => matchesSelector(c.labels, project.clusterSelector)).map((c) => c.name);
  }

  @ResolveField(() => [String], { description: 'Names of its AppSets.' })
  async appSets(@Parent() project: ProjectModel): Promise<string[]> {
    return this.projectService.appSetNames(project.name);
  }

  @Mutation(() => ProjectModel, { description: 'Creates a project (ADMIN only).' })
  async createProject(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('input') input: CreateProjectInput): Promise<ProjectModel> {
    requireAdmin(caller, 'create projects');
    audit.project = input.name;
    return ProjectModel.from(await this.projectService.create(input));
  }

  @Mutation(() => ProjectModel, {
    description: "Changes a project (ADMIN only) and re-stages its AppSets over the new rules; an AppSet that no longer fits keeps its Apps and records why as its condition.",
  })
  async updateProject(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('input') input: UpdateProjectInput): Promise<ProjectModel> {
    requireAdmin(caller, 'change projects');
    audit.project = input.name;
    const updated = await this.projectService.update(input);
    await this.appSetService.restageProject(updated.name);
    return ProjectModel.from(updated);
  }

  @Mutation(() => Boolean, { description: 'Deletes a project that owns no AppSet (ADMIN only); its tokens are revoked. "default" cannot be deleted.' })
  async deleteProject(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('name') name: string): Promise<boolean> {
    requireAdmin(caller, 'delete projects');
    audit.project = name;
    await this.projectService.delete(name);
    return true;
  }
}

