/**
 * `spec.template.helm`: a chart rendered on the hub with `helm template`. Plain data as written in the
 * AppSet; credentials are never here: `repository` names an entry of the hub's repositories file.
 */
export interface HelmSourceSpec {
  /** `https://`/`http://` chart repository (index.yaml), `oci://` registry path, or a Git repository (with `path`). */
  readonly repoURL: string;
  /** Chart name in an HTTP repository or under an OCI path; absent for a Git chart (its `path` is the chart). */
  readonly chart?: string;
  /** Exact version or a semver range (`^1.4.0`, `>=2 <3`), resolved once per apply on the hub. */
  readonly version?: string;
  /** Git only: the chart's directory, and the branch, tag or commit (default `HEAD`). */
  readonly path?: string;
  readonly revision?: string;
  /** Entry of the hub's repositories file whose credentials (or registry config) are used; default none. */
  readonly repository?: string;
  /** Default: the App's name. */
  readonly releaseName?: string;
  /** Default: the App's namespace. */
  readonly namespace?: string;
  /** Add a Namespace object for `namespace` to the App (applied before the chart's objects). */
  readonly createNamespace?: boolean;
  /** Values (highest precedence); string leaves may use the AppSet's parameters like inline manifests. */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Values files inside the chart, applied in order before `values`. */
  readonly valueFiles?: readonly string[];
  /** Leave the chart's `crds/` out (default: included). */
  readonly skipCRDs?: boolean;
}

/** What one cluster reports it serves; absent fields make helm use its defaults. */
export interface KubeCapabilities {
  /** `v1.35.2` or `1.35.2`. */
  readonly kubeVersion?: string;
  /** `group/version` and `group/version/Kind` strings, as `helm template --api-versions` takes them. */
  readonly apiVersions?: readonly string[];
}

/** A chart version pinned for one apply: what every cluster renders, byte for byte. */
export interface ResolvedChart {
  readonly repoURL: string;
  /** The chart's name (for a Git chart: the name in its Chart.yaml). */
  readonly chart: string;
  readonly version: string;
  /** The hub's repositories-file entry it was pulled with (a name, never a credential). */
  readonly repository?: string;
  /** `sha256:<hex>` of the packaged chart (.tgz) the hub rendered; for a Git chart, of its directory's files. */
  readonly digest: string;
  /** OCI only: the registry's manifest digest of the pulled version (`sha256:<hex>`). */
  readonly ociDigest?: string;
  /** Git only: the chart's directory, the revision asked for and the commit it resolved to. */
  readonly path?: string;
  readonly revision?: string;
  readonly commit?: string;
}
