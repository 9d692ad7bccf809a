import { AppExplainResolver } from '../app-sets/app-explain.resolver';
import { AppSetsResolver } from '../app-sets/app-sets.resolver';
import { ClustersResolver } from '../clusters/clusters.resolver';
import { RolloutsResolver } from '../rollouts/rollouts.resolver';
import { AppSetTriggerResolver, ApplyWarningsResolver } from '../rollouts/app-set-trigger.resolver';
import { JsonObjectScalar } from './json-object.scalar';
import { AuthResolver } from '../auth/auth.resolver';
import { AuditResolver } from '../audit/audit.resolver';
import { ProjectsResolver } from '../projects/projects.resolver';
import { TrustResolver } from '../trust/trust.resolver';

/** Every resolver of the API, for the module and for emitting `schema.gql`. */
export const RESOLVERS = [ClustersResolver, AppSetsResolver, AppExplainResolver, RolloutsResolver, AppSetTriggerResolver, ApplyWarningsResolver, AuthResolver, ProjectsResolver, AuditResolver, TrustResolver];
export const SCALARS = [JsonObjectScalar];
