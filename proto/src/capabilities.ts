/**
 * A cluster's capabilities as `helm template` wants them (`--kube-version`, `--api-versions`), and the
 * caps both sides hold them to: an agent never sends more, the hub never stores more. A report over a
 * cap, or with a malformed entry, is refused whole (never cut: a chart rendered against a partial list
 * would silently render wrong).
 */
export const CAPABILITY_LIMITS = {
  /** Most entries in `api_versions` (group/versions plus group/version/kinds). */
  maxApiVersions: 4096,
  /** Longest entry: a DNS-subdomain group (253), a version and a kind (63 each), two slashes. */
  maxApiVersionChars: 384,
  /** Largest `api_versions` in total, in UTF-8 bytes. */
  maxApiVersionsBytes: 256 * 1024,
  /** Longest `kubernetes_version`. */
  maxKubernetesVersionChars: 64,
} as const;

/** The API server's gitVersion: `v1.35.0`, `v1.29.3-eks-adc7111`, `v1.28.5+k3s1`. */
const KUBERNETES_VERSION = /^v\d{1,4}\.\d{1,4}\.\d{1,4}(?:[-+][0-9A-Za-z.+-]{1,48})?$/;
/** `v1`, `apps/v1`, `apps/v1/Deployment`, `monitoring.coreos.com/v1`, `v1/ConfigMap`. */
const API_VERSION = /^(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?\/)?v[0-9][0-9a-z]*(?:\/[A-Za-z][A-Za-z0-9]*)?$/;

export interface Capabilities {
  readonly kubernetesVersion: string;
  /** Sorted, without duplicates. */
  readonly apiVersions: readonly string[];
}

export type CapabilitiesCheck = { readonly ok: true; readonly capabilities: Capabilities } | { readonly ok: false; readonly problem: string };

/**
 * Checks capabilities against the caps and the grammar, and returns them sorted and deduplicated, or
 * why they are refused (a short sentence that quotes at most a bounded piece of the input).
 */
export function checkCapabilities(kubernetesVersion: string, apiVersions: readonly string[]): CapabilitiesCheck {
  const refuse = (problem: string): CapabilitiesCheck => ({ ok: false, problem });
  if (kubernetesVersion.length > CAPABILITY_LIMITS.maxKubernetesVersionChars || !KUBERNETES_VERSION.test(kubernetesVersion)) {
    return refuse(`The Kubernetes version "${quote(kubernetesVersion)}" is not a version like v1.35.0.`);
  }
  if (apiVersions.length > CAPABILITY_LIMITS.maxApiVersions) {
    return refuse(`${apiVersions.length} API versions exceed the cap of ${CAPABILITY_LIMITS.maxApiVersions}.`);
  }
  let bytes = 0;
  for (const entry of apiVersions) {
    if (entry.length > CAPABILITY_LIMITS.maxApiVersionChars) return refuse(`An API version of ${entry.length} characters exceeds the cap of ${CAPABILITY_LIMITS.maxApiVersionChars}.`);
    if (!API_VERSION.test(entry)) return refuse(`"${quote(entry)}" is not an API version like apps/v1 or apps/v1/Deployment.`);
    bytes += entry.length + 1; // the grammar admits ASCII only: one byte a character
  }
  if (bytes > CAPABILITY_LIMITS.maxApiVersionsBytes) return refuse(`The API versions take ${bytes} bytes, over the cap of ${CAPABILITY_LIMITS.maxApiVersionsBytes}.`);
  const sorted = [...new Set(apiVersions)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { ok: true, capabilities: { kubernetesVersion, apiVersions: sorted } };
}

function quote(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 61)}...` : printable;
}
