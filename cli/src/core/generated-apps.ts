/** One App a document would produce on one cluster, with its parameters. */
export interface GeneratedApp {
  readonly cluster: string;
  readonly app: string;
  readonly revision: string | null;
  readonly sources: readonly { readonly generator: string; readonly element: string }[];
  readonly parameters: Record<string, unknown>;
}

interface Explained {
  readonly explain: { readonly sources: readonly { readonly generator: string; readonly element: string }[]; readonly parameters: Record<string, unknown> } | null;
}

/** What the hub's preview of a document answers (the `GenerateAppSet` query). */
export interface GeneratePreview {
  readonly clusters: readonly {
    readonly cluster: string;
    readonly added: readonly (Explained & { readonly app: string; readonly toRevision: string | null })[];
    readonly changed: readonly (Explained & { readonly app: string; readonly toRevision: string | null })[];
    readonly removed: readonly { readonly app: string }[];
  }[];
}

/** An App the AppSet stages now (the `AppSetParameters` query). */
export interface StagedApp extends Explained {
  readonly cluster: string;
  readonly name: string;
  readonly stagedRevision: string | null;
}

/**
 * The Apps a document would produce: the preview lists only what it adds, changes or removes, so the
 * Apps the AppSet stages now and the preview leaves alone are added back. Sorted by cluster, then App.
 */
export function generatedApps(preview: GeneratePreview, staged: readonly StagedApp[]): GeneratedApp[] {
  const key = (cluster: string, app: string) => `${cluster}\u0000${app}`;
  const out = new Map<string, GeneratedApp>();
  const touched = new Set<string>();
  for (const cluster of preview.clusters) {
    for (const change of [...cluster.added, ...cluster.changed]) {
      touched.add(key(cluster.cluster, change.app));
      out.set(key(cluster.cluster, change.app), {
        cluster: cluster.cluster,
        app: change.app,
        revision: change.toRevision,
        sources: change.explain?.sources ?? [],
        parameters: change.explain?.parameters ?? {},
      });
    }
    for (const removed of cluster.removed) touched.add(key(cluster.cluster, removed.app));
  }
  for (const app of staged) {
    if (app.stagedRevision === null || touched.has(key(app.cluster, app.name))) continue;
    out.set(key(app.cluster, app.name), {
      cluster: app.cluster,
      app: app.name,
      revision: app.stagedRevision,
      sources: app.explain?.sources ?? [],
      parameters: app.explain?.parameters ?? {},
    });
  }
  return [...out.values()].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.app.localeCompare(b.app));
}
