import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IssueModel } from '../graphql/issue.model';
import { maskUrlCredentials, urlCredentials } from '../core/safety/mask-credentials';
import type { GitSourceEntity } from './git-source.entity';

@ObjectType('RevisionCommit', { description: 'The Git commit a revision was read from (a Git source).' })
export class RevisionCommitModel {
  @Field()
  sha: string;

  @Field({ description: 'The author, "Name <email>".' })
  author: string;

  @Field({ description: "The first line of the commit's message." })
  subject: string;

  @Field({ description: 'The commit time.' })
  time: Date;

  /** The commit recorded on a revision row, or null when the revision came through the API. */
  static of(row: { commitSha: string | null; commitAuthor: string | null; commitSubject: string | null; commitTime: Date | null }): RevisionCommitModel | null {
    if (row.commitSha === null) return null;
    return Object.assign(new RevisionCommitModel(), { sha: row.commitSha, author: row.commitAuthor ?? '', subject: row.commitSubject ?? '', time: row.commitTime ?? new Date(0) });
  }
}

@ObjectType('GitSource', { description: 'A folder of a Git repository whose AppSet documents the hub applies, on a schedule and on push webhooks.' })
export class GitSourceModel {
  @Field()
  name: string;

  @Field()
  project: string;

  @Field()
  repoURL: string;

  @Field({ description: 'The branch, tag or commit followed.' })
  revision: string;

  @Field({ description: "The folder read, recursively ('' is the repository's root)." })
  path: string;

  @Field({ description: 'How often the repository is polled, such as "3m".' })
  interval: string;

  @Field(() => [String], { description: 'Public keys (OpenPGP armored, or SSH) one of which must have signed a commit for it to be applied; empty: no signature required.' })
  requireSignedBy: string[];

  @Field(() => String, { nullable: true, description: 'The commit the branch or tag pointed to at the last sync.' })
  lastSeenCommit: string | null;

  @Field(() => String, { nullable: true, description: 'The last commit applied.' })
  lastAppliedCommit: string | null;

  @Field(() => Date, { nullable: true })
  lastAppliedAt: Date | null;

  @Field(() => Date, { nullable: true })
  lastSyncAt: Date | null;

  @Field({ description: "Why the last sync applied nothing; '' when it succeeded." })
  lastError: string;

  @Field(() => [IssueModel], { description: 'The problems of the last refused sync, each with its file, line and column.' })
  issues: IssueModel[];

  @Field({ description: 'When the next poll is due (a webhook or syncGitSource brings it forward).' })
  nextPollAt: Date;

  @Field(() => [String], { description: 'The AppSets the source manages.' })
  appSets: string[];

  @Field()
  createdBy: string;

  @Field()
  createdAt: Date;

  static from(entity: GitSourceEntity, appSets: readonly string[]): GitSourceModel {
    return Object.assign(new GitSourceModel(), {
      name: entity.name,
      project: entity.project,
      repoURL: maskUrlCredentials(entity.repoURL, urlCredentials(entity.repoURL)),
      revision: entity.revision,
      path: entity.path,
      interval: formatInterval(entity.intervalSeconds),
      requireSignedBy: entity.requireSignedBy,
      lastSeenCommit: entity.lastSeenCommit,
      lastAppliedCommit: entity.lastAppliedCommit,
      lastAppliedAt: entity.lastAppliedAt,
      lastSyncAt: entity.lastSyncAt,
      lastError: entity.lastError,
      issues: entity.issues,
      nextPollAt: entity.nextPollAt,
      appSets: [...appSets],
      createdBy: entity.createdBy,
      createdAt: entity.createdAt,
    });
  }
}

/** `90` → `1m30s`, `180` → `3m`, `3600` → `1h`. */
function formatInterval(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || seconds === 0 ? `${s}s` : ''}`;
}

@InputType()
export class AddGitSourceInput {
  @Field({ description: 'Unique name: lowercase letters, digits and dashes.' })
  name: string;

  @Field({ defaultValue: 'default', description: "The project its AppSets belong to (a document naming another project is refused)." })
  project: string;

  @Field({ description: 'https://, ssh://, git:// or scp-like address; never with credentials (the hub\'s Git setup holds them).' })
  repoURL: string;

  @Field({ defaultValue: 'HEAD', description: 'A branch, a tag or a full commit SHA.' })
  revision: string;

  @Field({ defaultValue: '', description: "A folder of the repository, read recursively ('' or '.': the root)." })
  path: string;

  @Field({ defaultValue: '3m', description: 'How often to poll: 5s to 24h.' })
  interval: string;

  @Field(() => [String], { nullable: true, description: 'Require each applied commit to be signed by one of these public keys (OpenPGP armored, or SSH public key lines).' })
  requireSignedBy?: string[] | null;
}

@InputType()
export class UpdateGitSourceInput {
  @Field({ description: 'The source to change (its name and project do not change).' })
  name: string;

  @Field(() => String, { nullable: true })
  repoURL?: string | null;

  @Field(() => String, { nullable: true })
  revision?: string | null;

  @Field(() => String, { nullable: true })
  path?: string | null;

  @Field(() => String, { nullable: true })
  interval?: string | null;

  @Field(() => [String], { nullable: true, description: 'Replaces the keys; an empty list requires no signature.' })
  requireSignedBy?: string[] | null;
}

@ObjectType()
export class GitSourcePayload {
  @Field(() => GitSourceModel, { nullable: true, description: 'The source; null when there are issues.' })
  gitSource: GitSourceModel | null;

  @Field(() => [IssueModel], { description: 'Problems with the input; when non-empty nothing changed.' })
  issues: IssueModel[];
}

@ObjectType()
export class RemoveGitSourcePayload {
  @Field({ description: 'The source removed.' })
  name: string;

  @Field(() => [String], { description: 'AppSets kept and now managed through the API (keepAppSets: true).' })
  keptAppSets: string[];

  @Field(() => [String], { description: 'AppSets whose Apps were staged for removal (keepAppSets: false); a rollout removes them from the clusters.' })
  removedAppSets: string[];

  @Field(() => Int)
  removedApps: number;
}
