import { AckSchema, HeartbeatSchema, HelloSchema, InventorySchema, PROTOCOL_VERSION, ReportSchema, create, type ConnectRequest } from '@flotilla/proto';
import type { AckContent } from '../core/desired-state.js';
import type { ReportContent } from '../core/health/index.js';
import type { DriverCapabilities } from '../driver/cluster-driver.js';
import type { HubLinkHandler } from './hub-link.js';

/**
 * The agent's messages to the hub, built once for both transports (gRPC stream and NATS JetStream), so
 * that what the hub receives does not depend on the link an agent picked.
 */

/** A message of a ConnectRequest (the oneof with its case set). */
export type RequestMessage = Exclude<ConnectRequest['message'], { case: undefined }>;

/**
 * Hello naming the agent and, when known, its cluster's capabilities (see CapabilitiesSource); with the Apps it holds unless `withInventory` is false (NATS: too large to
 * send), and with a CSR when it enrolls a client certificate.
 */
export function helloMessage(
  clusterName: string,
  agentVersion: string,
  handler: HubLinkHandler,
  withInventory = true,
  csrDer: Uint8Array = new Uint8Array(),
  capabilities?: DriverCapabilities,
): RequestMessage {
  const fields = {
    protocolVersion: PROTOCOL_VERSION,
    clusterName,
    agentVersion,
    csrDer,
    ...(capabilities ? { capabilities: { kubernetesVersion: capabilities.kubernetesVersion, apiVersions: [...capabilities.apiVersions], discoveryError: capabilities.discoveryError } } : {}),
  };
  return { case: 'hello', value: create(HelloSchema, withInventory ? { ...fields, inventory: { apps: inventoryOf(handler) } } : fields) };
}

export function ackMessage(ack: AckContent): RequestMessage {
  return { case: 'ack', value: create(AckSchema, ack) };
}

export function reportMessage(report: ReportContent): RequestMessage {
  return {
    case: 'report',
    value: create(ReportSchema, {
      ...report,
      resources: report.resources.map((resource) => ({
        ...resource,
        driftedFields: [...resource.driftedFields],
        driftedValues: resource.driftedValues.map((value) => ({ ...value })),
      })),
    }),
  };
}

export function heartbeatMessage(nowUnixMs: number): RequestMessage {
  return { case: 'heartbeat', value: create(HeartbeatSchema, { sentAtUnixMs: BigInt(nowUnixMs) }) };
}

export function inventoryMessage(handler: HubLinkHandler): RequestMessage {
  return { case: 'inventory', value: create(InventorySchema, { apps: inventoryOf(handler) }) };
}

function inventoryOf(handler: HubLinkHandler) {
  return handler.inventory().map((ref) => ({ ...ref }));
}
