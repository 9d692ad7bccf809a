import { Field, Int, ObjectType } from '@nestjs/graphql';
import { IssueModel } from '../graphql/issue.model';
import type { AppSetEntity } from './app-set.entity';

@ObjectType('AppSet', { description: 'A template and generators expanded into one App per target cluster.' })
export class AppSetModel {
  @Field()
  name: string;

  @Field(() => Int, { description: 'Number of the current revision (1, 2, ...). Every accepted change makes a new one.' })
  revision: number;

  @Field({ description: "Why the AppSet is not in sync with its clusters (e.g. the deletion breaker tripped); '' when fine." })
  condition: string;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  /** Internal id, used by field resolvers; not exposed. */
  id: string;

  static from(entity: AppSetEntity): AppSetModel {
    return Object.assign(new AppSetModel(), {
      id: entity.id,
      name: entity.name,
      revision: entity.currentRevision,
      condition: entity.condition,
      createdAt: entity.createdAt,
      updatedAt: entity.updatedAt,
    });
  }
}

@ObjectType('AppSetRevision', { description: 'One immutable revision of an AppSet document.' })
export class AppSetRevisionModel {
  @Field(() => Int)
  number: number;

  @Field({ description: 'sha256 of the canonical JSON of the document.' })
  contentHash: string;

  @Field()
  author: string;

  @Field()
  message: string;

  @Field()
  createdAt: Date;

  @Field({ description: 'The document as canonical YAML.' })
  yaml: string;
}

@ObjectType()
export class ApplyAppSetPayload {
  @Field(() => AppSetModel, { nullable: true, description: 'The AppSet at its current revision; null when there are issues.' })
  appSet: AppSetModel | null;

  @Field(() => [IssueModel], { description: 'Every problem found; when non-empty nothing was stored or staged.' })
  issues: IssueModel[];

  @Field({ description: 'False when the document equals the current revision (nothing new was stored).' })
  changed: boolean;
}
