import { Field, Int, ObjectType } from '@nestjs/graphql';
import { IssueModel } from '../graphql/issue.model';
import { RevisionCommitModel } from '../git-sources/git-source.model';
import { AppExplainModel } from './app-explain.model';
import type { AppSetEntity } from './app-set.entity';

@ObjectType('AppSet', { description: 'A template and generators expanded into one App per target cluster.' })
export class AppSetModel {
  @Field()
  name: string;

  @Field({ description: 'The project it belongs to (metadata.project); AppSet names are unique per project.' })
  project: string;

  @Field(() => Int, { description: 'Number of the current revision (1, 2, ...). Every accepted change makes a new one.' })
  revision: number;

  @Field({ description: "Why the AppSet is not in sync with its clusters (e.g. the deletion breaker tripped); '' when fine." })
  condition: string;

  @Field(() => String, { nullable: true, description: 'The Git source that manages the AppSet (it is then read-only through the API); null when the API manages it.' })
  source: string | null;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  /** Internal id, used by field resolvers; not exposed. */
  id: string;

  /** Internal: the owning Git source's id (the `source` field resolves its name). */
  sourceId: string | null;

  static from(entity: AppSetEntity): AppSetModel {
    return Object.assign(new AppSetModel(), {
      id: entity.id,
      name: entity.name,
      project: entity.project,
      revision: entity.currentRevision,
      condition: entity.condition,
      source: null,
      sourceId: entity.sourceId,
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

  @Field(() => RevisionCommitModel, { nullable: true, description: 'The Git commit the revision was read from; null when it came through the API.' })
  commit: RevisionCommitModel | null;

  @Field()
  createdAt: Date;

  @Field({ description: 'The document as canonical YAML, Secret data and the values of parameters marked secret redacted (<redacted:hmac:…>).' })
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

@ObjectType('AppChange', { description: 'One App that a change adds, removes or changes on a cluster.' })
export class AppChangeModel {
  @Field() app: string;
  @Field(() => String, { nullable: true }) fromRevision: string | null;
  @Field(() => String, { nullable: true }) toRevision: string | null;
  @Field({ description: 'Unified diff of the rendered manifests as YAML, Secret data and the values of parameters marked secret redacted (<redacted:hmac:…>: a changed value is a changed line).' }) diff: string;
  @Field(() => AppExplainModel, { nullable: true, description: 'Where the new App\'s parameters come from; null for a removal.' }) explain: AppExplainModel | null;
}

@ObjectType('ClusterPreview', { description: 'What a change does on one cluster.' })
export class ClusterPreviewModel {
  @Field() cluster: string;
  @Field(() => [AppChangeModel]) added: AppChangeModel[];
  @Field(() => [AppChangeModel]) removed: AppChangeModel[];
  @Field(() => [AppChangeModel]) changed: AppChangeModel[];
}

@ObjectType('PreviewTotals')
export class PreviewTotalsModel {
  @Field(() => Int) added: number;
  @Field(() => Int) removed: number;
  @Field(() => Int) changed: number;
  @Field(() => Int) unchanged: number;
}

@ObjectType('AppSetPreview', { description: 'What applying a document would stage, computed without writing anything.' })
export class AppSetPreviewModel {
  @Field(() => [ClusterPreviewModel], { description: 'Clusters with at least one change, by name.' }) clusters: ClusterPreviewModel[];
  @Field(() => PreviewTotalsModel, { nullable: true }) totals: PreviewTotalsModel | null;
  @Field(() => [IssueModel], { description: 'What would refuse the change (DELETION_BREAKER is overridden by force).' }) issues: IssueModel[];
}

@ObjectType('AppSetChangePreview', { description: 'What a pending change does to the Apps of one AppSet.' })
export class AppSetChangePreviewModel {
  @Field() appSet: string;
  @Field(() => [ClusterPreviewModel], { description: 'Clusters with at least one change, by name.' }) clusters: ClusterPreviewModel[];
  @Field(() => PreviewTotalsModel, { nullable: true }) totals: PreviewTotalsModel | null;
  @Field(() => [IssueModel], { description: 'What would keep this AppSet from being re-staged (it would keep its Apps and record the issue as its condition).' })
  issues: IssueModel[];
}

@ObjectType('ClusterChangePreview', { description: 'What relabeling or registering a cluster would stage, per AppSet, computed without writing anything.' })
export class ClusterChangePreviewModel {
  @Field(() => [AppSetChangePreviewModel], { description: 'AppSets whose staged Apps would change or that would refuse the change, by name.' })
  appSets: AppSetChangePreviewModel[];
}
