import { Controller, Get, Header, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Metrics } from './metrics';

/** Liveness/readiness and Prometheus metrics (plain HTTP beside GraphQL). */
@Controller()
export class ObservabilityController {
  constructor(
    private readonly db: DataSource,
    private readonly metrics: Metrics,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  async healthz(): Promise<{ status: 'ok' }> {
    try {
      await this.db.query('SELECT 1');
    } catch {
      // Readiness fails while the database is unreachable; the error itself may name hosts: not echoed.
      throw new ServiceUnavailableException({ status: 'database unavailable' });
    }
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
