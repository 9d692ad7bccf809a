import { GitRepositories } from '../git/git-repositories';
import { AppExplainResolver } from './app-explain.resolver';
import { AppSetExpander } from './app-set-expander';
import { ClusterChangePreviews } from './cluster-change-preview';

/** Providers of the AppSets feature besides AppSetsService and its resolver (Git reading, explain, cluster change previews). */
export const APP_SET_PROVIDERS = [GitRepositories, AppSetExpander, ClusterChangePreviews, AppExplainResolver];
