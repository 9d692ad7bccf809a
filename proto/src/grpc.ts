import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary, type DescMessage, type DescService, type MessageShape } from '@bufbuild/protobuf';
import { AgentService, type ConnectRequest, type ConnectResponse } from '../gen/flotilla/agent/v1/agent_pb.js';
import { LIMITS } from './limits.js';

/**
 * Builds a grpc-js service definition from a protobuf-es service descriptor, so that grpc-js serves and
 * calls the generated messages with protobuf-es's binary codec. Method keys are the lowerCamel local
 * names (`connect`), as grpc-js expects for handlers and client methods.
 */
export function grpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition as grpc.ServiceDefinition;
}

function serializer<D extends DescMessage>(desc: D): (value: unknown) => Buffer {
  return (value) => Buffer.from(toBinary(desc, value as MessageShape<D>));
}

function deserializer<D extends DescMessage>(desc: D): (bytes: Buffer) => unknown {
  // Unknown fields are dropped so that a newer peer's additions cannot grow our memory.
  return (bytes) => fromBinary(desc, bytes, { readUnknownFields: false });
}

/** grpc-js definition of `flotilla.agent.v1.AgentService`. */
export const agentServiceDefinition = grpcServiceDefinition(AgentService);

/** A grpc-js client of AgentService. `connect()` opens the bidirectional stream. */
export interface AgentServiceClient extends grpc.Client {
  connect(metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;
}

/** Constructor for {@link AgentServiceClient}. */
export const AgentServiceClient = grpc.makeGenericClientConstructor(
  agentServiceDefinition,
  'AgentService',
) as unknown as new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => AgentServiceClient;

/** Channel options both sides use: bounded messages, keepalive that detects silent peers. */
export const GRPC_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': LIMITS.maxMessageBytes,
  'grpc.max_send_message_length': LIMITS.maxMessageBytes,
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  // One connection per client, even when several agents (simulated fleets, tests) share a process.
  'grpc.use_local_subchannel_pool': 1,
};
