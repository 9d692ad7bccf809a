import { Field, Int, ObjectType, type FieldMiddleware } from '@nestjs/graphql';

/** Issues are plain core values: a field an issue does not carry reads as its default. */
const orDefault =
  (fallback: (issue: { path: string }) => unknown): FieldMiddleware =>
  async (ctx, next) =>
    (await next()) ?? fallback(ctx.source as { path: string });

@ObjectType('Issue', { description: 'A problem found in user input, with a path into the document.' })
export class IssueModel {
  @Field({ description: 'Stable SCREAMING_CASE code.' })
  code: string;

  @Field({ description: "Where in the document, e.g. 'spec.generators[0].list.elements[2].cluster'; the first place for a grouped issue." })
  path: string;

  @Field()
  message: string;

  @Field(() => String, { nullable: true, description: "The file of a Git source the problem is in (line and column are then the file's); null for a submitted document." })
  file?: string;

  @Field(() => Int, { nullable: true, description: 'Line (from 1) of the submitted document where the problem is; null when it has no single place there.' })
  line?: number;

  @Field(() => Int, { nullable: true, description: 'Column (from 1) on that line.' })
  column?: number;

  @Field(() => Int, {
    description: 'How many identical problems this issue stands for: the same code and message found on several clusters or paths are grouped into one issue (1 when not grouped).',
    middleware: [orDefault(() => 1)],
  })
  count?: number;

  @Field(() => [String], { description: 'The first few distinct paths of a grouped issue (just `path` when not grouped).', middleware: [orDefault((issue) => [issue.path])] })
  paths?: readonly string[];

  @Field(() => [String], { description: 'The first few distinct clusters a grouped issue was found on (empty when not grouped or not per cluster).', middleware: [orDefault(() => [])] })
  clusters?: readonly string[];
}
