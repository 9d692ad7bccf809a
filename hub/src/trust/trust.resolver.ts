import { Query, Resolver } from '@nestjs/graphql';
import { AgentLinkCa } from './agent-link-ca.service';

@Resolver()
export class TrustResolver {
  constructor(private readonly ca: AgentLinkCa) {}

  @Query(() => String, {
    name: 'agentLinkCA',
    description: "PEM of the CA certificate(s) an agent must trust to reach the hub's gRPC agent link (the agent's FLOTILLA_HUB_CA). Any authenticated principal.",
  })
  agentLinkCA(): Promise<string> {
    return this.ca.bundle();
  }
}
