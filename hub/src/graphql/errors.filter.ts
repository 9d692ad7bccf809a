import { Catch, Logger, type ArgumentsHost } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { FlotillaError } from '../errors';

/**
 * Maps errors to GraphQL once: a FlotillaError keeps its message and becomes `extensions.code`;
 * anything else is logged and answered with a generic INTERNAL error that leaks nothing.
 */
@Catch()
export class GraphqlErrorsFilter implements GqlExceptionFilter {
  private readonly log = new Logger('GraphQL');

  catch(error: unknown, _host: ArgumentsHost): GraphQLError {
    if (error instanceof FlotillaError) {
      return new GraphQLError(error.message, { extensions: { code: error.code, ...(error.retryAfterMs ? { retryAfterMs: error.retryAfterMs } : {}) } });
    }
    if (error instanceof GraphQLError) return error;
    this.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return new GraphQLError('Internal error.', { extensions: { code: 'INTERNAL' } });
  }
}
