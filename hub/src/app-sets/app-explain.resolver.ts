import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { AppModel } from '../graphql/app.model';
import { AppExplainModel } from './app-explain.model';
import { AppSetsService } from './app-sets.service';

/** `App.explain`: kept apart from the App type's own resolver so that the App model stays a read model of reports. */
@Resolver(() => AppModel)
export class AppExplainResolver {
  constructor(private readonly appSets: AppSetsService) {}

  @ResolveField(() => AppExplainModel, {
    nullable: true,
    description: 'Which generator elements produced this App\'s parameters, the Git commits read, and the final parameters (secrets redacted), as staged. Null for a staged removal.',
  })
  async explain(@Parent() app: AppModel): Promise<AppExplainModel | null> {
    const explain = await this.appSets.explain(app.cluster, app.name);
    return explain && AppExplainModel.from(explain);
  }
}
