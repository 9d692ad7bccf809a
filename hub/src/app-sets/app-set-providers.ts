import type { Provider } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { GitRepositories } from '../git/git-repositories';
import { GitChartReader } from '../helm/git-chart-reader';
import { HelmRenderer } from '../helm/helm-renderer';
import { KustomizeRenderer } from '../kustomize/kustomize-renderer';
import { RenderPool } from '../render-pool/render-pool';
import { SecretRedaction } from '../secrets/secret-redaction';
import { AppExplainResolver } from './app-explain.resolver';
import { AppSetExpander } from './app-set-expander';
import { ClusterChangePreviews } from './cluster-change-preview';

/** The render pool, started with the hub and destroyed at its shutdown (Nest calls onApplicationShutdown). */
const RENDER_POOL: Provider = { provide: RenderPool, useFactory: (config: HubConfig) => new RenderPool({ ...config.render, maxAppBytes: config.appSize.maxAppBytes }), inject: [HUB_CONFIG] };

/** The Helm renderer (its private helm home is removed at shutdown: Nest calls onApplicationShutdown). */
const HELM_RENDERER: Provider = {
  provide: HelmRenderer,
  useFactory: (config: HubConfig, git: GitRepositories) => new HelmRenderer(config.helm, new GitChartReader(git)),
  inject: [HUB_CONFIG, GitRepositories],
};

/** Providers of the AppSets feature besides AppSetsService and its resolver (Git reading, explain, cluster change previews, redaction, the render pool). */
export const APP_SET_PROVIDERS: Provider[] = [GitRepositories, KustomizeRenderer, AppSetExpander, ClusterChangePreviews, AppExplainResolver, SecretRedaction, RENDER_POOL, HELM_RENDERER];
