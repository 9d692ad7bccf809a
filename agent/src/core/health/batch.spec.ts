import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

const jobCondition = (type: string, reason: string, message: string) => ({
  type,
  status: 'True',
  reason,
  message,
  lastProbeTime: '2024-05-14T10:27:12Z',
  lastTransitionTime: '2024-05-14T10:27:12Z',
});

function job({ spec = {}, status = {} }: { spec?: object; status?: object } = {}) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'migrate',
      namespace: 'shop',
      uid: 'c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f',
      resourceVersion: '813377',
      generation: 1,
      creationTimestamp: '2024-05-14T10:25:00Z',
      labels: { 'batch.kubernetes.io/job-name': 'migrate' },
    },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f' } },
      template: { spec: { containers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:1.4.2' }], restartPolicy: 'Never' } },
      ...spec,
    },
    status: { startTime: '2024-05-14T10:25:00Z', active: 1, ready: 1, terminating: 0, uncountedTerminatedPods: {}, ...status },
  };
}

function cronJob({ spec = {}, status = {} }: { spec?: object; status?: object } = {}) {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: 'report',
      namespace: 'shop',
      uid: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
      resourceVersion: '813402',
      generation: 2,
      creationTimestamp: '2024-05-01T08:00:00Z',
    },
    spec: {
      schedule: '*/15 * * * *',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { spec: { template: { spec: { containers: [{ name: 'report', image: 'ghcr.io/acme/report:2.0.1' }], restartPolicy: 'OnFailure' } } } },
      ...spec,
    },
    status: { lastScheduleTime: '2024-05-14T10:15:00Z', lastSuccessfulTime: '2024-05-14T10:15:42Z', ...status },
  };
}

describe('Job', () => {
  it.each([
    {
      name: 'a completed Job is healthy',
      object: job({
        status: {
          active: undefined,
          ready: 0,
          succeeded: 1,
          completionTime: '2024-05-14T10:27:12Z',
          conditions: [jobCondition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'), jobCondition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')],
        },
      }),
      health: 'HEALTHY',
      message: 'Job completed (1 succeeded)',
    },
    {
      name: 'a failed Job is degraded with the condition reason and message',
      object: job({
        status: {
          active: undefined,
          ready: 0,
          failed: 7,
          conditions: [jobCondition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'), jobCondition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')],
        },
      }),
      health: 'DEGRADED',
      message: 'Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
    },
    {
      name: 'a Job whose pods are still terminating after it failed is already degraded',
      object: job({ status: { active: 0, terminating: 1, failed: 1, conditions: [jobCondition('FailureTarget', 'PodFailurePolicy', 'Container migrate for pod shop/migrate-7x2kq failed with exit code 42 matching FailJob rule at index 0')] } }),
      health: 'DEGRADED',
      message: expect.stringMatching(/^Job failed: PodFailurePolicy: Container migrate for pod shop\/migrate-7x2kq failed with exit code 42/),
    },
    {
      name: 'a Job that met its success criteria while its pods finish is progressing',
      object: job({ status: { active: 0, terminating: 1, succeeded: 1, conditions: [jobCondition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods')] } }),
      health: 'PROGRESSING',
      message: 'Job succeeded; waiting for its pods to finish',
    },
    {
      name: 'a suspended Job is suspended',
      object: job({
        spec: { suspend: true },
        status: { startTime: undefined, active: undefined, ready: 0, conditions: [jobCondition('Suspended', 'JobSuspended', 'Job suspended')] },
      }),
      health: 'SUSPENDED',
      message: 'Job is suspended',
    },
    {
      name: 'a running Job is progressing with its pod counts',
      object: job({ spec: { completions: 5, parallelism: 2 }, status: { active: 2, succeeded: 2, failed: 1 } }),
      health: 'PROGRESSING',
      message: 'Job running: 2 running, 2 of 5 succeeded, 1 failed',
    },
    {
      name: 'a work-queue Job without completions is progressing without a target count',
      object: job({ spec: { completions: undefined, parallelism: 3 }, status: { active: 3 } }),
      health: 'PROGRESSING',
      message: 'Job running: 3 running, 0 succeeded',
    },
    {
      name: 'a Job running past its active deadline is degraded before the controller fails it',
      object: job({ spec: { activeDeadlineSeconds: 120 } }),
      health: 'DEGRADED',
      message: 'Job has run for 5m, past its active deadline of 2m',
    },
    {
      name: 'a Job within its active deadline is progressing',
      object: job({ spec: { activeDeadlineSeconds: 600 } }),
      health: 'PROGRESSING',
      message: 'Job running: 1 running, 0 of 1 succeeded',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});

describe('CronJob', () => {
  it.each([
    { name: 'a CronJob whose last run succeeded is healthy', object: cronJob(), health: 'HEALTHY', message: "CronJob's last run, scheduled 15m ago, succeeded" },
    {
      name: 'a suspended CronJob is suspended',
      object: cronJob({ spec: { suspend: true } }),
      health: 'SUSPENDED',
      message: 'CronJob is suspended',
    },
    {
      name: 'a CronJob with a running job is healthy',
      object: cronJob({
        status: {
          lastScheduleTime: '2024-05-14T10:30:00Z',
          active: [{ kind: 'Job', namespace: 'shop', name: 'report-28596150', uid: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', apiVersion: 'batch/v1', resourceVersion: '813500' }],
        },
      }),
      health: 'HEALTHY',
      message: 'CronJob has 1 running job, last scheduled 0s ago',
    },
    {
      name: 'a CronJob whose last run did not succeed is degraded',
      object: cronJob({ status: { lastScheduleTime: '2024-05-14T10:15:00Z', lastSuccessfulTime: '2024-05-14T10:00:41Z' } }),
      health: 'DEGRADED',
      message: "CronJob's last run, scheduled 15m ago, did not succeed; last success 29m ago",
    },
    {
      name: 'a CronJob that has only ever failed is degraded',
      object: cronJob({ status: { lastScheduleTime: '2024-05-14T08:15:00Z', lastSuccessfulTime: undefined } }),
      health: 'DEGRADED',
      message: "CronJob's last run, scheduled 2h15m ago, did not succeed; it has never succeeded",
    },
    {
      name: 'a CronJob that has not been scheduled yet is healthy',
      object: cronJob({ status: { lastScheduleTime: undefined, lastSuccessfulTime: undefined } }),
      health: 'HEALTHY',
      message: 'CronJob has not run yet',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
