import { ArgsType, Field, Int } from '@nestjs/graphql';
import { FlotillaError } from '../errors';

export const MAX_PAGE = 1000;

/** Offset pagination shared by list fields; `first` is capped so no response is unbounded. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 100, description: `How many items, at most ${MAX_PAGE}.` })
  first: number = 100;

  @Field(() => Int, { defaultValue: 0 })
  offset: number = 0;
}

/** Validates a page request (thrown as INVALID_ARGUMENT). */
export function checkPage(page: PageArgs): PageArgs {
  if (!Number.isInteger(page.first) || page.first < 0 || page.first > MAX_PAGE) {
    throw new FlotillaError('INVALID_ARGUMENT', `first must be between 0 and ${MAX_PAGE}.`);
  }
  if (!Number.isInteger(page.offset) || page.offset < 0) throw new FlotillaError('INVALID_ARGUMENT', 'offset must be 0 or more.');
  return page;
}
