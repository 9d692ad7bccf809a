import type { MigrationInterface } from 'typeorm';
import { AddGitSources1796542105763 } from './migrations/1796542105763-add-git-sources';
import { AddRolloutTrigger1796542071124 } from './migrations/1796542071124-add-rollout-trigger';
import { CompressManifestBundles1796533671193 } from './migrations/1796533671193-compress-manifest-bundles';
import { AddClusterCapabilities1796533422416 } from './migrations/1796533422416-add-cluster-capabilities';
import { AddRolloutStartReason1796531461100 } from './migrations/1796531461100-add-rollout-start-reason';
import { AddCaRetirement1796529986187 } from './migrations/1796529986187-add-ca-retirement';
import { CreateNatsIdentities1796524193349 } from './migrations/1796524193349-create-nats-identities';
import { CreateCertificateAuthorities1796522325713 } from './migrations/1796522325713-create-certificate-authorities';
import { ScopeAppSetNamesToProjects1796522101190 } from './migrations/1796522101190-scope-app-set-names-to-projects';
import { AddProjectsTokensAudit1796520651409 } from './migrations/1796520651409-add-projects-tokens-audit';
import { AddAppExplain1795436893183 } from './migrations/1795436893183-add-app-explain';
import { AddAppSetCondition1795432698572 } from './migrations/1795432698572-add-app-set-condition';
import { AddRolloutWaves1795431379508 } from './migrations/1795431379508-add-rollout-waves';
import { CreateSchema1795425707116 } from './migrations/1795425707116-create-schema';
import { CreateReleaseGeneration1795425707117 } from './migrations/1795425707117-create-release-generation';

/** Every migration, oldest first. `npm run migration:generate -w hub -- <name>` appends to this list. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  CreateSchema1795425707116,
  CreateReleaseGeneration1795425707117,
  AddRolloutWaves1795431379508,
  AddAppSetCondition1795432698572,
  AddAppExplain1795436893183,
  AddProjectsTokensAudit1796520651409,
  ScopeAppSetNamesToProjects1796522101190,
  CreateCertificateAuthorities1796522325713,
  CreateNatsIdentities1796524193349,
  AddCaRetirement1796529986187,
  AddRolloutStartReason1796531461100,
  AddClusterCapabilities1796533422416,
  CompressManifestBundles1796533671193,
  AddRolloutTrigger1796542071124,
  AddGitSources1796542105763,
];
