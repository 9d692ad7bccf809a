import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Clock } from '../clock';
import { FlotillaError } from '../errors';
import { Authenticator } from './authenticator';
import { requestContext } from './request-context';

/**
 * Every resolver requires a principal (defence in depth behind the HTTP edge, which refuses anonymous
 * requests before GraphQL runs). Over a WebSocket the principal was established at connect: each
 * operation re-checks that its credential was neither revoked nor has expired since.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType<string>() !== 'graphql') return true;
    const ctx = requestContext(context);
    if (!ctx.principal) throw new FlotillaError('UNAUTHENTICATED', 'Authentication required.');
    if (ctx.transport === 'websocket' && !(await this.authenticator.isStillValid(ctx.principal, this.clock.now()))) {
      throw new FlotillaError('UNAUTHENTICATED', 'The credential of this connection was revoked or has expired.');
    }
    return true;
  }
}
