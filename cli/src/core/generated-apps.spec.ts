import { describe, expect, it } from 'vitest';
import { generatedApps, type GeneratePreview, type StagedApp } from './generated-apps.js';

const explain = (element: string, parameters: Record<string, unknown>) => ({ sources: [{ generator: 'spec.generators[0].clusters', element }], parameters });

describe('generatedApps', () => {
  it('lists the Apps the preview adds or changes and those staged now that it leaves alone, without removed ones', () => {
    const preview: GeneratePreview = {
      clusters: [
        { cluster: 'b', added: [{ app: 'web', toRevision: 'r-new', explain: explain('b', { x: 1 }) }], changed: [], removed: [] },
        { cluster: 'a', added: [], changed: [{ app: 'web', toRevision: 'r-changed', explain: explain('a', { x: 2 }) }], removed: [{ app: 'old' }] },
      ],
    };
    const staged: StagedApp[] = [
      { cluster: 'a', name: 'web', stagedRevision: 'r-before', explain: explain('a', { x: 0 }) },
      { cluster: 'a', name: 'old', stagedRevision: 'r-old', explain: explain('a', {}) },
      { cluster: 'c', name: 'web', stagedRevision: 'r-same', explain: explain('c', { x: 3 }) },
      { cluster: 'd', name: 'web', stagedRevision: null, explain: null },
    ];
    expect(generatedApps(preview, staged).map((a) => [a.cluster, a.app, a.revision, a.parameters])).toEqual([
      ['a', 'web', 'r-changed', { x: 2 }],
      ['b', 'web', 'r-new', { x: 1 }],
      ['c', 'web', 'r-same', { x: 3 }],
    ]);
  });

  it('is the preview alone for an AppSet that does not exist yet', () => {
    const preview: GeneratePreview = { clusters: [{ cluster: 'a', added: [{ app: 'web', toRevision: 'r', explain: null }], changed: [], removed: [] }] };
    expect(generatedApps(preview, [])).toEqual([{ cluster: 'a', app: 'web', revision: 'r', sources: [], parameters: {} }]);
  });
});
