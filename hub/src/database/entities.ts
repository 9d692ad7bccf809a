import { ApiTokenEntity } from '../auth/api-token.entity';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { ProjectEntity } from '../projects/project.entity';
import { AgentTokenEntity } from '../clusters/agent-token.entity';
import { ClusterEntity } from '../clusters/cluster.entity';
import { AppSetRevisionEntity } from '../app-sets/app-set-revision.entity';
import { AppSetEntity } from '../app-sets/app-set.entity';
import { AppEntity } from '../app-sets/app.entity';
import { ManifestBundleEntity } from '../app-sets/manifest-bundle.entity';
import { OutboxEntity } from '../agent-link/outbox.entity';
import { AppStatusEntity } from '../reports/app-status.entity';
import { RolloutClusterEntity } from '../rollouts/rollout-cluster.entity';
import { RolloutEventEntity } from '../rollouts/rollout-event.entity';
import { RolloutTargetEntity } from '../rollouts/rollout-target.entity';
import { RolloutEntity } from '../rollouts/rollout.entity';
import { CertificateAuthorityEntity } from '../trust/certificate-authority.entity';
import { NatsSigningKeyEntity } from '../nats-trust/nats-signing-key.entity';
import { NatsUserEntity } from '../nats-trust/nats-user.entity';
import { GitSourceEntity } from '../git-sources/git-source.entity';

/** Every entity of the hub, for the data source and the migration generator. */
export const ENTITIES = [
  GitSourceEntity,
  ClusterEntity,
  AgentTokenEntity,
  AppSetEntity,
  AppSetRevisionEntity,
  ManifestBundleEntity,
  AppEntity,
  AppStatusEntity,
  OutboxEntity,
  RolloutEntity,
  RolloutTargetEntity,
  RolloutClusterEntity,
  RolloutEventEntity,
  ProjectEntity,
  ApiTokenEntity,
  AuditEventEntity,
  CertificateAuthorityEntity,
  NatsSigningKeyEntity,
  NatsUserEntity,
];
