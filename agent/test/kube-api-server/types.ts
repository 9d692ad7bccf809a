/** Options of {@link KubeApiTestServer.start}. */
export interface KubeApiTestServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Run the workload simulator, which moves workload status forward like a kwok cluster. Default true. */
  simulateWorkloads?: boolean;
  /** Period of the workload simulator, in milliseconds. Default 50. */
  simulatorTickMs?: number;
  /** Delay before a new CustomResourceDefinition becomes Established and is served, in milliseconds. Default 100. */
  crdEstablishDelayMs?: number;
  /** Period of BOOKMARK events on watches that allow them, in milliseconds. Default 1000. */
  bookmarkIntervalMs?: number;
  /** Watch events kept for resumption; a watch from an older resourceVersion gets 410 Gone. Default 1000. */
  historyLimit?: number;
  /** When set, every request must carry `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /**
   * The version `/version` reports, `v<major>.<minor>.<patch>` (default `v1.35.0`), for tests of what
   * depends on it (Helm's `.Capabilities.KubeVersion`). The served resources stay those of 1.35.
   */
  kubernetesVersion?: string;
}

/** Object metadata as the server stores it; unknown fields are kept. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** One field manager's ownership, in the wire format of `metadata.managedFields`. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldsV1;
  subresource?: string;
}

/** The FieldsV1 trie: keys such as `f:spec`, `k:{"name":"web"}`, `v:"x"`, `i:0` and `.` (the node itself). */
export interface FieldsV1 {
  [element: string]: FieldsV1;
}

/** A Kubernetes object as stored and served. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
};

/** Names one object; `namespace` is ignored for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** Filter of {@link KubeApiTestServer.listObjects}; every given part must match. */
export interface ObjectFilter {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  labelSelector?: string;
}

/** One served request, in arrival order. `at` is epoch milliseconds when the status was sent. */
export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  status: number;
  at: number;
}
