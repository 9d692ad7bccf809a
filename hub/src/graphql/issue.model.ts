import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('Issue', { description: 'A problem found in user input, with a path into the document.' })
export class IssueModel {
  @Field({ description: 'Stable SCREAMING_CASE code.' })
  code: string;

  @Field({ description: "Where in the document, e.g. 'spec.generators[0].list.elements[2].cluster'." })
  path: string;

  @Field()
  message: string;
}
