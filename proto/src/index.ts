/**
 * @flotilla/proto: the hub <-> agent wire contract (`flotilla.agent.v1`) and the few helpers both sides
 * share. Everything here is deterministic and free of hub or agent concepts. The gRPC binding lives
 * in `@flotilla/proto/grpc`, so that importing the messages never loads a transport.
 */
export * from '../gen/flotilla/agent/v1/agent_pb.js';
export { canonicalJson } from './canonical-json.js';
export { revisionOf, sha256Hex, shortRevision } from './revision.js';
export { LIMITS, truncateText, utf8Bytes } from './limits.js';
export { PROTOCOL_VERSION } from './version.js';
export { CAPABILITY_LIMITS, checkCapabilities, type Capabilities, type CapabilitiesCheck } from './capabilities.js';
export {
  SECRET_REFERENCE_OPENING,
  findSecretReferences,
  hasMalformedSecretReference,
  hasSecretReference,
  isWholeSecretReference,
  replaceSecretReferences,
  type SecretReference,
} from './secret-reference.js';
export { create, fromBinary, toBinary, toJson, fromJson } from '@bufbuild/protobuf';
export { DEFAULT_REASSEMBLY_LIMITS, ManifestReassembler, deliveryMessages, type ReassemblyEvent, type ReassemblyLimits } from './chunks.js';
