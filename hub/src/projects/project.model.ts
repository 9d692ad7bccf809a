import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { JsonObjectScalar } from '../graphql/json-object.scalar';
import type { LabelSelector } from '../core/app-set/app-set-spec';
import type { ProjectEntity } from './project.entity';

@ObjectType('Project', { description: 'A tenant: the clusters its selector matches, and what its Apps may contain (checked on the hub and again by the agent).' })
export class ProjectModel {
  @Field()
  name: string;

  @Field(() => JsonObjectScalar, { description: 'Label selector (matchLabels, matchExpressions) of the clusters the project owns; {} matches every cluster.' })
  clusterSelector: LabelSelector;

  @Field(() => [String], { description: 'Namespaces its Apps may use; "*" matches any run of characters.' })
  namespaces: string[];

  @Field(() => [String], { description: 'Kinds its Apps may contain, as Kind, group/Kind or /Kind (core group), "*" globs; empty: any kind.' })
  kinds: string[];

  @Field({ description: 'Whether its Apps may contain cluster-scoped objects (Namespace, ClusterRole, CustomResourceDefinition...).' })
  clusterScoped: boolean;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  static from(entity: ProjectEntity): ProjectModel {
    const { name, clusterSelector, namespaces, kinds, clusterScoped, createdAt, updatedAt } = entity;
    return Object.assign(new ProjectModel(), { name, clusterSelector, namespaces, kinds, clusterScoped, createdAt, updatedAt });
  }
}

@InputType()
export class CreateProjectInput {
  @Field({ description: 'A DNS-1123 label.' })
  name: string;

  @Field(() => JsonObjectScalar, { nullable: true, description: 'Which clusters it owns; default {} (every cluster).' })
  clusterSelector?: Record<string, unknown> | null;

  @Field(() => [String], { description: 'At least one namespace or pattern, e.g. ["team-a", "team-a-*"].' })
  namespaces: string[];

  @Field(() => [String], { nullable: true, description: 'Allowed kinds; default [] (any kind).' })
  kinds?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Allow cluster-scoped objects; default false.' })
  clusterScoped?: boolean | null;
}

@InputType({ description: 'The project to change, by name, and the fields to replace (absent fields stay).' })
export class UpdateProjectInput {
  @Field()
  name: string;

  @Field(() => JsonObjectScalar, { nullable: true })
  clusterSelector?: Record<string, unknown> | null;

  @Field(() => [String], { nullable: true })
  namespaces?: string[] | null;

  @Field(() => [String], { nullable: true })
  kinds?: string[] | null;

  @Field(() => Boolean, { nullable: true })
  clusterScoped?: boolean | null;
}
