import { describe, expect, it } from 'vitest';
import { conflictsOfStatus, describeConflicts, ownersOf } from './field-owners.js';

const live = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    managedFields: [
      { manager: 'flotilla-agent', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': {} } } },
      { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
      {
        manager: 'injector',
        operation: 'Update',
        fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } } },
      },
    ],
  },
};

describe('ownersOf', () => {
  it.each([
    { name: 'finds the other manager of a field', segments: [{ kind: 'key', key: 'spec' }, { kind: 'key', key: 'replicas' }], want: ['kubectl-edit'] },
    {
      name: 'follows named list items',
      segments: [
        { kind: 'key', key: 'spec' },
        { kind: 'key', key: 'template' },
        { kind: 'key', key: 'spec' },
        { kind: 'key', key: 'containers' },
        { kind: 'item', name: 'web' },
        { kind: 'key', key: 'image' },
      ],
      want: ['injector'],
    },
    { name: 'a field only the agent owns has no other owner', segments: [{ kind: 'key', key: 'metadata' }, { kind: 'key', key: 'labels' }], want: [] },
  ] as const)('$name', ({ segments, want }) => {
    expect(ownersOf(live, segments)).toEqual(want);
  });

  it('has no owners for an object without managedFields', () => {
    expect(ownersOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, [{ kind: 'key', key: 'data' }])).toEqual([]);
  });
});

describe('conflictsOfStatus', () => {
  it('reads every conflicting manager and field from the causes', () => {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'Apply failed with 2 conflicts: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
      reason: 'Conflict',
      code: 409,
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using apps/v1', field: '.spec.replicas' },
          { reason: 'FieldManagerConflict', message: 'conflict with "helm"', field: '.metadata.labels.tier' },
        ],
      },
    };
    const conflicts = conflictsOfStatus(status);
    expect(conflicts).toEqual([
      { manager: 'helm', field: '.metadata.labels.tier' },
      { manager: 'kubectl-edit', field: '.spec.replicas' },
    ]);
    expect(describeConflicts(conflicts)).toBe('conflict with manager "helm" over .metadata.labels.tier, manager "kubectl-edit" over .spec.replicas');
  });

  it('falls back to the Status message when there are no causes', () => {
    expect(conflictsOfStatus({ kind: 'Status', code: 409, message: 'Apply failed with 1 conflict: conflict with "x": .data.a' })).toEqual([{ manager: 'x', field: '' }]);
  });

  it('finds nothing in a Status that is not a field conflict', () => {
    expect(conflictsOfStatus({ kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'configmaps "a" already exists' })).toEqual([]);
  });
});
