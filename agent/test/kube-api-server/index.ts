export { KubeApiTestServer } from './server.js';
export { FAIL_ANNOTATION, FAIL_AFTER_TICKS, SIMULATED_NODES } from './simulator.js';
export type { FieldsV1, KubeApiTestServerOptions, KubeObject, ManagedFieldsEntry, ObjectFilter, ObjectMeta, ObjectRef, OwnerReference, RequestLogEntry } from './types.js';
