import { describe, expect, it } from 'vitest';
import { canRelabelCluster, canSeeCluster, projectsOfCluster, type ProjectSelector } from './cluster-access';
import { tokenPrincipal, type Principal } from './principal';

const projects: ProjectSelector[] = [
  { name: 'team-a', clusterSelector: { matchLabels: { team: 'a' } } },
  { name: 'team-b', clusterSelector: { matchLabels: { team: 'b' } } },
  { name: 'edge', clusterSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge'] }] } },
];
const token = (role: 'ADMIN' | 'OPERATOR' | 'VIEWER', project: string | null): Principal => tokenPrincipal({ id: 'i', name: 'n', role, project, expiresAt: null });

describe('projectsOfCluster', () => {
  it('lists every project whose selector matches, by name', () => {
    expect(projectsOfCluster({ team: 'a', tier: 'edge' }, projects)).toEqual(['edge', 'team-a']);
    expect(projectsOfCluster({ team: 'c' }, projects)).toEqual([]);
  });
});

describe('canSeeCluster', () => {
  it.each<{ name: string; principal: Principal; labels: Record<string, string>; want: boolean }>([
    { name: 'an admin sees a cluster no project owns', principal: token('ADMIN', null), labels: { team: 'c' }, want: true },
    { name: 'a viewer sees a cluster of its project', principal: token('VIEWER', 'team-a'), labels: { team: 'a' }, want: true },
    { name: "an operator does not see another project's cluster", principal: token('OPERATOR', 'team-a'), labels: { team: 'b' }, want: false },
    { name: 'a shared cluster is seen by each owner', principal: token('VIEWER', 'edge'), labels: { team: 'b', tier: 'edge' }, want: true },
  ])('$name', ({ principal, labels, want }) => {
    expect(canSeeCluster(principal, labels, projects)).toBe(want);
  });
});

describe('canRelabelCluster', () => {
  it.each<{ name: string; principal: Principal; before: Record<string, string>; after: Record<string, string>; want: boolean }>([
    { name: 'an operator relabels a cluster only its project owns, staying in it', principal: token('OPERATOR', 'team-a'), before: { team: 'a' }, after: { team: 'a', zone: '1' }, want: true },
    { name: 'a viewer may not relabel', principal: token('VIEWER', 'team-a'), before: { team: 'a' }, after: { team: 'a', zone: '1' }, want: false },
    { name: "an operator may not move its cluster into another project", principal: token('OPERATOR', 'team-a'), before: { team: 'a' }, after: { team: 'b' }, want: false },
    { name: 'an operator may not relabel a cluster shared with a project it does not run', principal: token('OPERATOR', 'team-a'), before: { team: 'a', tier: 'edge' }, after: { team: 'a', tier: 'edge', zone: '1' }, want: false },
    { name: 'an operator may not relabel a cluster out of every project', principal: token('OPERATOR', 'team-a'), before: { team: 'c' }, after: { team: 'c', x: 'y' }, want: false },
    { name: 'an admin relabels anything', principal: token('ADMIN', null), before: { team: 'a' }, after: { team: 'b' }, want: true },
  ])('$name', ({ principal, before, after, want }) => {
    expect(canRelabelCluster(principal, before, after, projects)).toBe(want);
  });
});
