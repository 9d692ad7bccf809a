import type { AppSetQuery } from '../gen/graphql';

export type MatrixApp = NonNullable<AppSetQuery['appSet']>['apps'][number];

/** The AppSet × cluster matrix: App names (rows), clusters (columns), both sorted, and the cell lookup. */
export function appMatrix(apps: readonly MatrixApp[]): { names: string[]; clusters: string[]; cell: (name: string, cluster: string) => MatrixApp | undefined } {
  const byKey = new Map(apps.map((app) => [`${app.name}\u0000${app.cluster}`, app]));
  return {
    names: [...new Set(apps.map((app) => app.name))].sort(),
    clusters: [...new Set(apps.map((app) => app.cluster))].sort(),
    cell: (name, cluster) => byKey.get(`${name}\u0000${cluster}`),
  };
}
