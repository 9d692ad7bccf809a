import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { ConnectRequestSchema, HelloSchema } from '../gen/flotilla/agent/v1/agent_pb.js';
import { agentServiceDefinition } from './grpc.js';

describe('agentServiceDefinition', () => {
  it('describes Connect as a bidirectional stream at its canonical path', () => {
    const connect = agentServiceDefinition['connect'];
    expect(connect).toMatchObject({
      path: '/flotilla.agent.v1.AgentService/Connect',
      requestStream: true,
      responseStream: true,
    });
  });

  it('round-trips a request through the binary codec', () => {
    const connect = agentServiceDefinition['connect']!;
    const hello = create(ConnectRequestSchema, {
      message: { case: 'hello', value: create(HelloSchema, { clusterName: 'edge-1', protocolVersion: 1 }) },
    });
    const back = connect.requestDeserialize(connect.requestSerialize(hello)) as typeof hello;
    expect(back.message.case).toBe('hello');
    expect(back.message.value).toMatchObject({ clusterName: 'edge-1', protocolVersion: 1 });
  });

  it('refuses bytes that are not a valid message', () => {
    const connect = agentServiceDefinition['connect']!;
    expect(() => connect.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });
});
