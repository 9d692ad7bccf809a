import { describe, expect, it } from 'vitest';
import { groupIssues } from './group-issues';
import { issue, type Issue } from './issues';

/** A template typo as expansion reports it: once per field and cluster. */
const typo = (path: string, cluster: string): Issue => issue('TEMPLATE_ERROR', path, `undefined variable: valuse (cluster ${cluster}, from ${cluster})`);
const URL_PATH = 'spec.template.manifests[0].data.url';
const HOST_PATH = 'spec.template.manifests[0].data.host';

describe('groupIssues', () => {
  it('folds one typo in two fields over ten clusters into one issue that counts 20 and names the first clusters and both paths', () => {
    const clusters = Array.from({ length: 10 }, (_, i) => `edge-${i + 1}`);
    const issues = clusters.flatMap((cluster) => [typo(URL_PATH, cluster), typo(HOST_PATH, cluster)]);
    expect(groupIssues(issues)).toEqual([
      {
        code: 'TEMPLATE_ERROR',
        path: URL_PATH,
        message: `undefined variable: valuse (20 times: on 10 clusters (edge-1, edge-2, edge-3, edge-4, edge-5 and 5 more) at 2 paths (${URL_PATH}, ${HOST_PATH}))`,
        count: 20,
        paths: [URL_PATH, HOST_PATH],
        clusters: ['edge-1', 'edge-2', 'edge-3', 'edge-4', 'edge-5'],
      },
    ]);
  });

  it.each([
    { name: 'an issue found once is returned unchanged', issues: [typo(URL_PATH, 'edge-1')], expected: [typo(URL_PATH, 'edge-1')] },
    { name: 'exact duplicates count once', issues: [typo(URL_PATH, 'edge-1'), typo(URL_PATH, 'edge-1')], expected: [typo(URL_PATH, 'edge-1')] },
    {
      name: 'issues with different codes stay apart',
      issues: [typo(URL_PATH, 'edge-1'), issue('RENDER_TIME_LIMIT', URL_PATH, 'undefined variable: valuse (cluster edge-2, from edge-2)')],
      expected: [typo(URL_PATH, 'edge-1'), issue('RENDER_TIME_LIMIT', URL_PATH, 'undefined variable: valuse (cluster edge-2, from edge-2)')],
    },
    {
      name: 'issues whose messages differ beyond the cluster note stay apart',
      issues: [typo(URL_PATH, 'edge-1'), issue('TEMPLATE_ERROR', URL_PATH, 'undefined variable: vals (cluster edge-2, from edge-2)')],
      expected: [typo(URL_PATH, 'edge-1'), issue('TEMPLATE_ERROR', URL_PATH, 'undefined variable: vals (cluster edge-2, from edge-2)')],
    },
  ])('$name', ({ issues, expected }) => {
    expect(groupIssues(issues)).toEqual(expected);
  });

  it('groups issues without a cluster note by path alone, and keeps the line and column of the first', () => {
    const issues = [
      { ...issue('SCHEMA', 'a', 'must be a string'), line: 3, column: 5 },
      { ...issue('SCHEMA', 'b', 'must be a string'), line: 4, column: 5 },
    ];
    expect(groupIssues(issues)).toEqual([{ code: 'SCHEMA', path: 'a', message: 'must be a string (2 times: at 2 paths (a, b))', line: 3, column: 5, count: 2, paths: ['a', 'b'], clusters: [] }]);
  });

  it('groups template errors whose only difference is the position inside each template string, and drops that position', () => {
    const issues = [
      issue('TEMPLATE_ERROR', URL_PATH, 'undefined variable: valuse, line:1, col:12 (cluster edge-1, from edge-1)'),
      issue('TEMPLATE_ERROR', HOST_PATH, 'undefined variable: valuse, line:1, col:1 (cluster edge-1, from edge-1)'),
    ];
    expect(groupIssues(issues)).toEqual([expect.objectContaining({ count: 2, message: `undefined variable: valuse (2 times: on 1 cluster (edge-1) at 2 paths (${URL_PATH}, ${HOST_PATH}))` })]);
  });

  it('keeps the order of first occurrences', () => {
    const issues = [typo(URL_PATH, 'edge-1'), issue('DUPLICATE_APP', 'spec.generators[0]', 'twice'), typo(URL_PATH, 'edge-2')];
    expect(groupIssues(issues).map((i) => [i.code, i.count ?? 1])).toEqual([
      ['TEMPLATE_ERROR', 2],
      ['DUPLICATE_APP', 1],
    ]);
  });
});
