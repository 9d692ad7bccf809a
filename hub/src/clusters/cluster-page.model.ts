import { ArgsType, Field, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { JsonObjectScalar } from '../graphql/json-object.scalar';
import { MAX_PAGE } from '../graphql/page.args';
import { ClusterModel } from './cluster.model';

export enum ClusterAppsFilter {
  NOT_HEALTHY = 'NOT_HEALTHY',
  DRIFTED = 'DRIFTED',
}
registerEnumType(ClusterAppsFilter, {
  name: 'ClusterAppsFilter',
  description: 'NOT_HEALTHY: clusters with an App whose health is not HEALTHY (UNKNOWN included); DRIFTED: clusters with an App that has a drifted object. Only the Apps of the caller\'s projects count.',
});

@InputType({ description: 'Which clusters to list; every field given must hold (AND). Filtering happens on the hub.' })
export class ClusterFilter {
  @Field(() => String, { nullable: true, description: 'Only the clusters this project\'s clusterSelector matches; NOT_FOUND for a project the caller may not see.' })
  project?: string | null;

  @Field(() => JsonObjectScalar, {
    nullable: true,
    description: 'A label selector as in AppSets and projects: { matchLabels: { region: "eu" }, matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] }.',
  })
  labels?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Blank-separated words, case-insensitive; each must be part of the name or of one `key=value` label, e.g. "region=eu prod".' })
  search?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true: connected clusters only; false: offline clusters only.' })
  connected?: boolean | null;

  @Field(() => ClusterAppsFilter, { nullable: true })
  apps?: ClusterAppsFilter | null;
}

export const CLUSTER_PAGE_DEFAULT = 100;

@ArgsType()
export class ClusterPageArgs {
  @Field(() => ClusterFilter, { nullable: true })
  filter?: ClusterFilter | null;

  @Field(() => String, {
    nullable: true,
    description: 'A label key: clusters are ordered by its value (clusters without it last), then by name, and `groups` counts them per value. Without it: by name.',
  })
  groupBy?: string | null;

  @Field(() => Int, { defaultValue: CLUSTER_PAGE_DEFAULT, description: `How many clusters, at most ${MAX_PAGE}.` })
  first: number = CLUSTER_PAGE_DEFAULT;

  @Field(() => Int, { defaultValue: 0, description: 'How many matching clusters to skip, in page order (random access, for a scrolled list).' })
  offset: number = 0;
}

@ObjectType({ description: 'How many matching clusters share one value of the groupBy label.' })
export class ClusterGroupCount {
  @Field(() => String, { nullable: true, description: 'The label value; null for the clusters without the label.' })
  value: string | null;

  @Field(() => Int)
  count: number;
}

@ObjectType({ description: 'One page of the clusters matching a filter, with the counts of the whole match.' })
export class ClusterPage {
  @Field(() => [ClusterModel])
  nodes: ClusterModel[];

  @Field(() => Int, { description: 'How many clusters match the filter.' })
  totalCount: number;

  @Field(() => Int, { description: 'How many of them are connected.' })
  connectedCount: number;

  @Field(() => [ClusterGroupCount], { description: 'Matching clusters per value of the groupBy label, in page order (none last); [] without groupBy.' })
  groups: ClusterGroupCount[];

  @Field({ description: 'True when clusters follow this page.' })
  hasNextPage: boolean;
}
