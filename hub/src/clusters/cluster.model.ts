import type { ClusterBatch } from './cluster-batch';
import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IssueModel } from '../graphql/issue.model';
import { JsonObjectScalar } from '../graphql/json-object.scalar';
import type { ClusterEntity } from './cluster.entity';
import type { CredentialRevocation } from './clusters.service';

@ObjectType('Cluster', { description: 'A registered Kubernetes cluster and its agent.' })
export class ClusterModel {
  @Field()
  name: string;

  @Field(() => JsonObjectScalar, { description: 'Labels used by selectors and waves, e.g. { region: "eu-west" }.' })
  labels: Record<string, string>;

  @Field(() => JsonObjectScalar, { description: 'Free-form values that templates read as `cluster.values.<key>`.' })
  values: Record<string, string>;

  @Field({ description: 'True while the agent holds a stream to a hub replica and was heard from recently.' })
  connected: boolean;

  @Field(() => Date, { nullable: true, description: 'When the agent was last heard from.' })
  lastSeen: Date | null;

  @Field(() => String, { nullable: true })
  agentVersion: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The cluster's Kubernetes version (the API server's gitVersion, e.g. v1.35.0) as its agent reported it at connect; null until known. Charts render against it (helm --kube-version).",
  })
  kubernetesVersion: string | null;

  @Field(() => [String], {
    nullable: true,
    description:
      'The group/versions and group/version/kinds the cluster serves (v1, apps/v1, apps/v1/Deployment, monitoring.coreos.com/v1, ...), sorted, as its agent reported them at connect; null until known. Charts render against them (helm --api-versions).',
  })
  apiVersions: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: "Why the agent's last report of capabilities was not taken (its discovery failed, or the report is over a cap); the capabilities known before stay. Null when it was taken.",
  })
  capabilitiesProblem: string | null;

  @Field(() => Date, { nullable: true, description: 'When the agent last reported capabilities.' })
  capabilitiesReportedAt: Date | null;

  @Field()
  createdAt: Date;

  /** Internal id, used by field resolvers; not exposed. */
  id: string;

  /** Internal: the other clusters of the same list answer, for fields read for all of them at once. */
  batch?: ClusterBatch;

  static from(entity: ClusterEntity, connected: boolean): ClusterModel {
    return Object.assign(new ClusterModel(), {
      id: entity.id,
      name: entity.name,
      labels: entity.labels,
      values: entity.values,
      connected,
      lastSeen: entity.lastSeenAt,
      agentVersion: entity.agentVersion,
      kubernetesVersion: entity.kubernetesVersion,
      apiVersions: entity.apiVersions,
      capabilitiesProblem: entity.capabilitiesProblem,
      capabilitiesReportedAt: entity.capabilitiesReportedAt,
      createdAt: entity.createdAt,
    });
  }
}

@InputType()
export class RegisterClusterInput {
  @Field({ description: 'Unique DNS-1123 label, e.g. "eu-west-1a".' })
  name: string;

  @Field(() => JsonObjectScalar, { nullable: true, description: 'Kubernetes-style labels, e.g. { region: "eu-west", env: "prod" }.' })
  labels?: Record<string, string>;

  @Field(() => JsonObjectScalar, { nullable: true, description: 'Free-form string values for templates.' })
  values?: Record<string, string>;
}

@ObjectType()
export class RegisterClusterPayload {
  @Field(() => ClusterModel)
  cluster: ClusterModel;

  @Field({ description: 'One-time token the agent exchanges for its credential on first connect. Shown once; stored hashed.' })
  bootstrapToken: string;

  @Field({ description: 'When the bootstrap token expires.' })
  bootstrapTokenExpiresAt: Date;

  @Field({ description: 'The helm install command that installs this cluster\'s agent with the values it needs (holds the token and the CA bundle).' })
  agentInstallCommand: string;

  @Field({ description: "PEM of the CA certificate(s) the agent must trust to reach the hub's agent link (FLOTILLA_HUB_CA; the chart's hub.caBundle)." })
  caBundle: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The NATS enrollment user's bearer JWT (the agent's FLOTILLA_NATS_ENROLLMENT_JWT; the chart's nats.enrollmentJwt.value), or null unless the hub is the NATS operator (FLOTILLA_NATS_OPERATOR=true). It only lets an agent ask the hub for its cluster's NATS user, which the hub grants for this bootstrap token alone: it grants nothing without the token, and expires with it.",
  })
  natsEnrollmentJwt: string | null;

  @Field({
    description:
      'True when the cluster already held a live agent credential (a re-install): that credential keeps working until an agent exchanges this bootstrap token, and is revoked then, its stream cut on every replica.',
  })
  reinstall: boolean;
}

@ObjectType()
export class RevokeAgentCredentialsPayload {
  @Field(() => ClusterModel, { description: 'The cluster, still registered with its Apps; not connected from now on.' })
  cluster: ClusterModel;

  @Field({ description: 'When the credentials were revoked: the old credential is refused from then on, and its live stream cut on every hub replica within two seconds.' })
  revokedAt: Date;

  @Field(() => Int, { description: 'Agent credentials revoked (0 when the cluster held none, e.g. revoked twice).' })
  revokedCredentials: number;

  @Field(() => Int, { description: 'Unused bootstrap tokens revoked with them; issueBootstrapToken gives a new one for a re-install.' })
  revokedBootstrapTokens: number;

  static from(revocation: CredentialRevocation): RevokeAgentCredentialsPayload {
    const { cluster, revokedAt, revokedCredentials, revokedBootstrapTokens } = revocation;
    return Object.assign(new RevokeAgentCredentialsPayload(), { cluster: ClusterModel.from(cluster, false), revokedAt, revokedCredentials, revokedBootstrapTokens });
  }
}

@ObjectType()
export class DeregisterClusterPayload {
  @Field({ description: 'The cluster named in the request.' })
  cluster: string;

  @Field({ description: 'True when the cluster is gone; false when the deletion breaker refused (nothing changed).' })
  deregistered: boolean;

  @Field(() => [IssueModel], { description: 'Per AppSet, why the deregistration was refused (DELETION_BREAKER, overridden by force); empty when it went ahead.' })
  issues: IssueModel[];
}
