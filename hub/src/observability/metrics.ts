import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The hub's Prometheus metrics, on a registry of its own (served at /metrics). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly connectedAgents = new Gauge({ name: 'flotilla_connected_agents', help: 'Agent streams open on this hub replica.', registers: [this.registry] });
  readonly releases = new Counter({ name: 'flotilla_releases_total', help: 'App releases and removals committed by rollouts.', registers: [this.registry] });
  readonly deliveries = new Counter({
    name: 'flotilla_deliveries_total',
    help: 'DesiredApp and RemoveApp messages sent to agents.',
    labelNames: ['kind', 'cause'] as const,
    registers: [this.registry],
  });
  readonly reports = new Counter({
    name: 'flotilla_reports_total',
    help: 'Reports received from agents, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly acks = new Counter({ name: 'flotilla_acks_total', help: 'Acks received from agents.', labelNames: ['accepted'] as const, registers: [this.registry] });
  readonly refusedStreams = new Counter({
    name: 'flotilla_refused_streams_total',
    help: 'Agent streams refused, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly gitSourceSyncs = new Histogram({
    name: 'flotilla_git_source_sync_seconds',
    help: 'Git source syncs on this replica, by source and outcome (applied, unchanged, refused, failed).',
    labelNames: ['source', 'outcome'] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly gitSourceFailures = new Counter({
    name: 'flotilla_git_source_failures_total',
    help: 'Git source syncs that applied nothing because of an error or a refusal, by source and reason.',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'flotilla_hub_' });
  }
}
