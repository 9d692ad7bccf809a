import { Field, ObjectType } from '@nestjs/graphql';
import type { AppView } from '../reports/app-views.service';
import { HealthValue, SyncStatusValue, toHealth, toSyncStatus } from './enums';
import { ResourceStatusModel } from './resource-status.model';

@ObjectType('App', { description: 'One rendered instance of an AppSet on one cluster.' })
export class AppModel {
  @Field()
  name: string;

  @Field({ description: 'The cluster the App runs on.' })
  cluster: string;

  @Field()
  appSet: string;

  @Field({ description: 'Namespace for namespaced objects that name none.' })
  namespace: string;

  @Field(() => String, { nullable: true, description: 'The revision released to the cluster (null: not released yet, or removed).' })
  revision: string | null;

  @Field(() => String, { nullable: true, description: 'The revision staged by the current AppSet revision (null: staged for removal).' })
  stagedRevision: string | null;

  @Field({ description: 'True when what is staged differs from what is released: a rollout would change it.' })
  pendingRelease: boolean;

  @Field(() => String, { nullable: true, description: 'Generation of the release (strictly increasing).' })
  generation: string | null;

  @Field(() => HealthValue, { description: 'Health as last judged by the agent, for `healthRevision`.' })
  health: HealthValue;

  @Field(() => String, { nullable: true, description: 'The revision the health was judged for.' })
  healthRevision: string | null;

  @Field({ description: 'True when the health was judged for the released revision and generation.' })
  upToDate: boolean;

  @Field(() => SyncStatusValue)
  syncStatus: SyncStatusValue;

  @Field(() => String, { nullable: true, description: 'Why the App is not healthy, or why the agent refused it.' })
  message: string | null;

  @Field(() => Date, { nullable: true })
  observedAt: Date | null;

  @Field(() => [ResourceStatusModel], {
    description: "The objects of the App as last reported, in the agent's order (worst health first); empty before the first report.",
  })
  resources: ResourceStatusModel[];

  @Field({ description: 'True when the agent reported only the worst part of the resources (too many to list).' })
  resourcesTruncated: boolean;

  @Field({ description: 'True when any reported resource differs from the applied revision.' })
  drifted: boolean;

  static from(view: AppView): AppModel {
    const upToDate =
      view.releasedRevision !== null &&
      view.healthRevision === view.releasedRevision &&
      view.healthGeneration !== null &&
      view.generation !== null &&
      BigInt(view.healthGeneration) >= BigInt(view.generation);
    return Object.assign(new AppModel(), {
      name: view.name,
      cluster: view.clusterName,
      appSet: view.appSetName,
      namespace: view.namespace,
      revision: view.releasedRevision,
      stagedRevision: view.stagedRevision,
      pendingRelease: view.stagedRevision !== view.releasedRevision,
      generation: view.generation,
      health: toHealth(view.health),
      healthRevision: view.healthRevision,
      upToDate,
      syncStatus: view.ackError ? SyncStatusValue.FAILED : toSyncStatus(view.syncStatus),
      message: view.ackError ?? view.message,
      observedAt: view.observedAt,
      resources: view.resources.map(ResourceStatusModel.from),
      resourcesTruncated: view.resourcesTruncated,
      drifted: view.resources.some((resource) => resource.drifted),
    });
  }
}
