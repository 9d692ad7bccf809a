import { LIMITS } from '@flotilla/proto';
import { Field, ObjectType } from '@nestjs/graphql';
import type { ResourceView } from '../reports/app-views.service';
import { HealthValue, toHealth } from './enums';

@ObjectType('ResourceStatus', { description: 'One object of an App as last reported by the agent, judged for the same revision as the App.' })
export class ResourceStatusModel {
  @Field()
  apiVersion: string;

  @Field()
  kind: string;

  @Field({ description: 'Empty for cluster-scoped objects.' })
  namespace: string;

  @Field()
  name: string;

  @Field(() => HealthValue)
  health: HealthValue;

  @Field({ description: 'Why the object has this health, in one line.' })
  message: string;

  @Field({ description: 'True when the live object differs from the applied revision.' })
  drifted: boolean;

  @Field(() => [String], {
    description: `Paths of the drifted fields, e.g. 'spec.replicas', 'data.color', 'spec.template.spec.containers[name=web].image' (at most ${LIMITS.maxDriftedFields}; empty when unknown).`,
  })
  driftedFields: string[];

  static from(view: ResourceView): ResourceStatusModel {
    return Object.assign(new ResourceStatusModel(), {
      apiVersion: view.apiVersion,
      kind: view.kind,
      namespace: view.namespace,
      name: view.name,
      health: toHealth(view.health),
      message: view.message,
      drifted: view.drifted,
      driftedFields: [...view.driftedFields],
    });
  }
}
