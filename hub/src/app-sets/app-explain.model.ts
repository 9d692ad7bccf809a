import { Field, ObjectType } from '@nestjs/graphql';
import type { AppExplain } from '../core/expand-app-set';
import type { GitRef, ParamOrigin } from '../core/generators/param-set';
import type { ResolvedChart } from '../core/helm/helm-source';
import { JsonObjectScalar } from '../graphql/json-object.scalar';

@ObjectType('GitCommit', { description: 'A revision of a Git repository and the commit it resolved to when the App was expanded.' })
export class GitCommitModel {
  @Field({ description: 'The repository URL, any credentials in it masked.' }) repoURL: string;
  @Field({ description: 'The branch, tag, HEAD or SHA the AppSet asks for.' }) revision: string;
  @Field({ description: 'The full commit SHA it resolved to.' }) commit: string;

  static from(ref: GitRef): GitCommitModel {
    return Object.assign(new GitCommitModel(), { repoURL: ref.repoURL, revision: ref.revision, commit: ref.commit });
  }
}

@ObjectType('HelmChartPin', { description: 'The Helm chart version an App was rendered from: pinned once per apply, the same on every cluster.' })
export class HelmChartPinModel {
  @Field({ description: 'The chart repository (https://, http:// or oci://) or Git repository.' }) repoURL: string;
  @Field() chart: string;
  @Field({ description: 'The exact version a version or range resolved to.' }) version: string;
  @Field({ description: "sha256 of the packaged chart the hub rendered (sha256:<hex>); for a Git chart, of its directory's files." }) digest: string;
  @Field(() => String, { nullable: true, description: "OCI only: the registry's manifest digest of the version." }) ociDigest: string | null;
  @Field(() => String, { nullable: true, description: "Git only: the chart's directory in the repository." }) path: string | null;
  @Field(() => String, { nullable: true, description: 'Git only: the full commit SHA the revision resolved to.' }) commit: string | null;

  static from(chart: ResolvedChart): HelmChartPinModel {
    return Object.assign(new HelmChartPinModel(), {
      repoURL: chart.repoURL,
      chart: chart.chart,
      version: chart.version,
      digest: chart.digest,
      ociDigest: chart.ociDigest ?? null,
      path: chart.path ?? null,
      commit: chart.commit ?? null,
    });
  }
}

@ObjectType('AppParameterSource', { description: 'One generator element that contributed parameters to an App.' })
export class AppParameterSourceModel {
  @Field({ description: "The generator's path in the AppSet, e.g. 'spec.generators[0].matrix.generators[1].git'." }) generator: string;
  @Field({ description: "What it produced the parameters from: 'elements[2]' (list), a cluster name (clusters), a file or directory path (git)." })
  element: string;
  @Field(() => GitCommitModel, { nullable: true, description: 'For a git generator: the commit it read.' }) git: GitCommitModel | null;

  static from(origin: ParamOrigin): AppParameterSourceModel {
    return Object.assign(new AppParameterSourceModel(), { generator: origin.generator, element: origin.element, git: origin.git ? GitCommitModel.from(origin.git) : null });
  }
}

@ObjectType('AppExplain', { description: 'Why an App has the parameters it has, as of the expansion that staged (or would stage) it.' })
export class AppExplainModel {
  @Field(() => [AppParameterSourceModel], { description: 'The generator elements that produced the parameters, in order (a matrix lists one per child).' })
  sources: AppParameterSourceModel[];

  @Field(() => JsonObjectScalar, { description: 'The final parameters. Values under keys like password, secret, token, key or credential, and copies of them, read "[redacted]".' })
  parameters: Record<string, unknown>;

  @Field(() => [GitCommitModel], { description: 'Every Git commit the App was built from (generators and manifest source).' })
  git: GitCommitModel[];

  @Field(() => HelmChartPinModel, { nullable: true, description: 'For a helm template: the chart pinned for this apply.' })
  helm: HelmChartPinModel | null;

  static from(explain: AppExplain): AppExplainModel {
    return Object.assign(new AppExplainModel(), {
      sources: explain.sources.map(AppParameterSourceModel.from),
      parameters: { ...explain.parameters },
      git: explain.git.map(GitCommitModel.from),
      helm: explain.helm ? HelmChartPinModel.from(explain.helm) : null,
    });
  }
}
