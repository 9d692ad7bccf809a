import { Catch, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { GqlContextType, GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { FlotillaError } from '../errors';

/**
 * Maps errors to GraphQL once: a FlotillaError keeps its message and becomes `extensions.code`;
 * anything else is logged and answered with a generic INTERNAL error that leaks nothing. Plain HTTP
 * requests (`GET /`, `/favicon.ico`) get Nest's own answers: a 404 is not an error worth a stack trace.
 */
@Catch()
export class GraphqlErrorsFilter extends BaseExceptionFilter implements GqlExceptionFilter {
  private readonly log = new Logger('GraphQL');

  override catch(error: unknown, host: ArgumentsHost): GraphQLError | undefined {
    if (host.getType<GqlContextType>() !== 'graphql') {
      super.catch(error, host);
      return undefined;
    }
    if (error instanceof FlotillaError) {
      return new GraphQLError(error.message, { extensions: { code: error.code, ...(error.retryAfterMs ? { retryAfterMs: error.retryAfterMs } : {}) } });
    }
    if (error instanceof GraphQLError) return error;
    this.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return new GraphQLError('Internal error.', { extensions: { code: 'INTERNAL' } });
  }
}
