import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { ConnectRequestSchema, ConnectResponseSchema, HelloSchema, ScopeSchema, type ConnectResponse, type Scope } from '../gen/flotilla/agent/v1/agent_pb.js';
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

  it.each<{ name: string; scope?: Scope | undefined; projectScope?: Scope | undefined }>([
    {
      name: 'a DesiredApp carries its App scope and its project scope apart',
      scope: create(ScopeSchema, { namespaces: ['shop'], kinds: [], clusterScoped: false }),
      projectScope: create(ScopeSchema, { namespaces: ['team-a-*'], kinds: ['ConfigMap', 'apps/*'], clusterScoped: true }),
    },
    { name: 'a DesiredApp carries a project scope without an App scope', projectScope: create(ScopeSchema, { namespaces: [], kinds: [], clusterScoped: false }) },
    { name: 'a DesiredApp without a project scope decodes without one (an older hub)', scope: create(ScopeSchema, { namespaces: ['*'], kinds: [], clusterScoped: true }) },
  ])('$name through the binary codec', ({ scope, projectScope }) => {
    const connect = agentServiceDefinition['connect']!;
    const response = create(ConnectResponseSchema, {
      message: { case: 'desiredApp', value: { appName: 'web', generation: 3n, syncPolicy: { ...(scope ? { scope } : {}), ...(projectScope ? { projectScope } : {}) } } },
    });
    const back = connect.responseDeserialize(connect.responseSerialize(response)) as ConnectResponse;
    expect(back.message.case).toBe('desiredApp');
    const policy = back.message.case === 'desiredApp' ? back.message.value.syncPolicy : undefined;
    expect(policy?.scope).toEqual(scope);
    expect(policy?.projectScope).toEqual(projectScope);
  });

  it('refuses bytes that are not a valid message', () => {
    const connect = agentServiceDefinition['connect']!;
    expect(() => connect.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });
});
