import { LIMITS } from '@flotilla/proto';
import { Field, ObjectType } from '@nestjs/graphql';
import type { ResourceView } from '../reports/app-views.service';
import { HealthValue, toHealth } from './enums';

@ObjectType('DriftedField', {
  description:
    'One drifted field of an object with what it holds on each side. Values are compact JSON text (`3`, `"red"`); a long one is cut and ends with `…[truncated]`.',
})
export class DriftedFieldModel {
  @Field({ description: "The field's path, as in driftedFields." })
  path: string;

  @Field(() => String, {
    nullable: true,
    description: 'The value the applied configuration results in; null when the field is absent there, when redacted, or when the values are unknown.',
  })
  expected: string | null;

  @Field(() => String, { nullable: true, description: 'The live value; null when the field is absent from the live object, when redacted, or when the values are unknown.' })
  live: string | null;

  @Field({ description: "True when the value is secret (a Secret's data, or a value from a secret reference): it never leaves the cluster." })
  redacted: boolean;

  @Field({ description: 'False when the agent sent only the path (an older agent, or its report had no room left for values).' })
  valuesKnown: boolean;
}

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

  @Field(() => [DriftedFieldModel], { description: 'The drifted fields with their values, one per path of driftedFields, in the same order.' })
  drift: DriftedFieldModel[];

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
      drift: view.driftedFields.map((path) => {
        const value = view.driftedValues.find((candidate) => candidate.path === path);
        return Object.assign(new DriftedFieldModel(), {
          path,
          expected: value?.expected ?? null,
          live: value?.live ?? null,
          redacted: value?.redacted ?? false,
          valuesKnown: value !== undefined,
        });
      }),
    });
  }
}
