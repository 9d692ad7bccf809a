import { AppExplainResolver } from '../app-sets/app-explain.resolver';
import { AppSetsResolver } from '../app-sets/app-sets.resolver';
import { ClustersResolver } from '../clusters/clusters.resolver';
import { RolloutsResolver } from '../rollouts/rollouts.resolver';
import { JsonObjectScalar } from './json-object.scalar';

/** Every resolver of the API, for the module and for emitting `schema.gql`. */
export const RESOLVERS = [ClustersResolver, AppSetsResolver, AppExplainResolver, RolloutsResolver];
export const SCALARS = [JsonObjectScalar];
