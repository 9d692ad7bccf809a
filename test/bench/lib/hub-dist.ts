/**
 * The built hub (CommonJS, hub/dist), loaded with Node's own require: vite's module runner would
 * treat it as ESM, and the hub's TypeORM entities need their emitted decorator metadata anyway.
 * `npm run bench` builds first.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const HUB_DIST = '../../../hub/dist';

require('reflect-metadata');

export const hubTypeorm = require('typeorm') as typeof import('typeorm');
export const { dataSourceOptions } = require(`${HUB_DIST}/database/data-source-options.js`) as typeof import('../../../hub/dist/database/data-source-options.js');
export const { migrate } = require(`${HUB_DIST}/database/migrate.js`) as typeof import('../../../hub/dist/database/migrate.js');
export const { AppSetsService } = require(`${HUB_DIST}/app-sets/app-sets.service.js`) as typeof import('../../../hub/dist/app-sets/app-sets.service.js');
export const { AppSetExpander } = require(`${HUB_DIST}/app-sets/app-set-expander.js`) as typeof import('../../../hub/dist/app-sets/app-set-expander.js');
export const { RenderPool } = require(`${HUB_DIST}/render-pool/render-pool.js`) as typeof import('../../../hub/dist/render-pool/render-pool.js');
export const { loadRenderConfig } = require(`${HUB_DIST}/config/render-config.js`) as typeof import('../../../hub/dist/config/render-config.js');
export const { ClustersService } = require(`${HUB_DIST}/clusters/clusters.service.js`) as typeof import('../../../hub/dist/clusters/clusters.service.js');
export const { parseAppSet } = require(`${HUB_DIST}/core/app-set/parse-app-set.js`) as typeof import('../../../hub/dist/core/app-set/parse-app-set.js');
export const { expandAppSet } = require(`${HUB_DIST}/core/expand-app-set.js`) as typeof import('../../../hub/dist/core/expand-app-set.js');
export const { ProjectsService } = require(`${HUB_DIST}/projects/projects.service.js`) as typeof import('../../../hub/dist/projects/projects.service.js');
export const { hubPrincipal } = require(`${HUB_DIST}/core/auth/principal.js`) as typeof import('../../../hub/dist/core/auth/principal.js');
