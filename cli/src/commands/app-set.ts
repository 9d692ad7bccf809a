import type { Command } from 'commander';
import { stringify } from 'yaml';
import { decideDiffExit, ExitCode } from '../core/exit-codes.js';
import { formatAge } from '../core/duration.js';
import { generatedApps, type GeneratedApp, type StagedApp } from '../core/generated-apps.js';
import { shortRevision, type View } from '../core/output-format.js';
import { formatPositionedIssue, placeHubIssue, type YamlDocument } from '../core/yaml-documents.js';
import {
  AppSetDocument,
  AppSetExplainDocument,
  AppSetHistoryDocument,
  AppSetParametersDocument,
  AppSetRevisionDiffDocument,
  AppSetsDocument,
  ApplyAppSetDocument,
  GenerateAppSetDocument,
  PreviewAppSetDocument,
  type AppSetExplainQuery,
  type AppSetHistoryQuery,
  type AppSetQuery,
  type AppSetsQuery,
} from '../gen/graphql.js';
import type { HubClient } from '../client/hub-client.js';
import { readAppSetFiles } from '../client/app-set-files.js';
import { colorDiff } from '../render/diff.js';
import { printOutput } from '../render/output.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { collect, contextFor, outputOf, withOutput } from './shared.js';

type AppSetRow = AppSetsQuery['appSets'][number];
type AppSetDetail = NonNullable<AppSetQuery['appSet']>;
type Revision = NonNullable<AppSetHistoryQuery['appSet']>['revisions'][number];
type ExplainedApp = NonNullable<AppSetExplainQuery['appSet']>['apps'][number];

/** Apps with explanations are read a page at a time (each costs about 60 of the hub's query budget). */
const EXPLAIN_PAGE = 200;

function appSetView(io: Io): View<AppSetRow> {
  const now = io.now();
  return {
    columns: [
      { header: 'NAME', cell: (a) => a.name },
      { header: 'PROJECT', cell: (a) => a.project },
      { header: 'REVISION', cell: (a) => String(a.revision) },
      { header: 'APPS', cell: (a) => String(a.apps.length) },
      { header: 'PENDING', cell: (a) => String(a.apps.filter((app) => app.pendingRelease).length) },
      { header: 'UPDATED', cell: (a) => formatAge(a.updatedAt, now), wide: true },
      { header: 'CONDITION', cell: (a) => a.condition, flexible: true },
    ],
    name: (a) => `appset/${a.name}`,
  };
}

const appView: View<AppSetDetail['apps'][number]> = {
  columns: [
    { header: 'CLUSTER', cell: (a) => a.cluster },
    { header: 'APP', cell: (a) => a.name },
    { header: 'REVISION', cell: (a) => shortRevision(a.revision) },
    { header: 'STAGED', cell: (a) => shortRevision(a.stagedRevision) },
    { header: 'HEALTH', cell: (a) => a.health },
    { header: 'SYNC', cell: (a) => a.syncStatus },
    { header: 'PENDING', cell: (a) => String(a.pendingRelease) },
    { header: 'NAMESPACE', cell: (a) => a.namespace, wide: true },
    { header: 'UP TO DATE', cell: (a) => String(a.upToDate), wide: true },
    { header: 'MESSAGE', cell: (a) => a.message ?? '', flexible: true, wide: true },
  ],
  name: (a) => `app/${a.cluster}/${a.name}`,
};

function revisionView(io: Io): View<Revision> {
  const now = io.now();
  return {
    columns: [
      { header: 'REVISION', cell: (r) => String(r.number) },
      { header: 'AUTHOR', cell: (r) => r.author },
      { header: 'AGE', cell: (r) => formatAge(r.createdAt, now) },
      { header: 'CREATED', cell: (r) => r.createdAt, wide: true },
      { header: 'HASH', cell: (r) => shortRevision(r.contentHash), wide: true },
      { header: 'MESSAGE', cell: (r) => r.message, flexible: true },
    ],
    name: (r) => `revision/${r.number}`,
  };
}

const generatedView: View<GeneratedApp> = {
  columns: [
    { header: 'CLUSTER', cell: (a) => a.cluster },
    { header: 'APP', cell: (a) => a.app },
    { header: 'REVISION', cell: (a) => shortRevision(a.revision) },
    { header: 'SOURCES', cell: (a) => a.sources.map((s) => `${s.generator}[${s.element}]`).join(' '), flexible: true },
    { header: 'PARAMETERS', cell: (a) => JSON.stringify(a.parameters), flexible: true, wide: true },
  ],
  name: (a) => `app/${a.cluster}/${a.app}`,
};

async function getAppSet(client: HubClient, name: string, project: string | undefined): Promise<AppSetDetail> {
  const { appSet } = await client.request(AppSetDocument, { name, project: project ?? null });
  if (!appSet) throw new CliError(`no AppSet named "${name}"`);
  return appSet;
}

async function explainedApps(client: HubClient, name: string, project: string | undefined): Promise<ExplainedApp[]> {
  const all: ExplainedApp[] = [];
  for (let page = 0; page < 1000; page++) {
    const { appSet } = await client.request(AppSetExplainDocument, { name, project: project ?? null, first: EXPLAIN_PAGE, offset: page * EXPLAIN_PAGE });
    if (!appSet) throw new CliError(`no AppSet named "${name}"`);
    all.push(...appSet.apps);
    if (appSet.apps.length < EXPLAIN_PAGE) break;
  }
  return all;
}

/** The Apps an AppSet stages now with their parameters; none when there is no such AppSet yet. */
async function stagedApps(client: HubClient, document: YamlDocument): Promise<StagedApp[]> {
  if (!document.name) return [];
  const all: StagedApp[] = [];
  for (let page = 0; page < 1000; page++) {
    let appSet;
    try {
      ({ appSet } = await client.request(AppSetParametersDocument, { name: document.name, project: document.project ?? null, first: EXPLAIN_PAGE, offset: page * EXPLAIN_PAGE }));
    } catch (error) {
      if (error instanceof CliError && error.code === 'NOT_FOUND') return [];
      throw error;
    }
    if (!appSet) return [];
    all.push(...appSet.apps);
    if (appSet.apps.length < EXPLAIN_PAGE) break;
  }
  return all;
}

/** Prints YAML syntax errors and returns whether there were any. */
function reportSyntax(io: Io, issues: ReturnType<typeof readAppSetFiles>['issues']): boolean {
  for (const issue of issues) io.err(`${formatPositionedIssue(issue)}\n`);
  return issues.length > 0;
}

export function registerAppSetCommands(program: Command, io: Io): void {
  const appSet = program.command('appset').description('AppSets: templates expanded into one App per cluster');

  appSet
    .command('apply')
    .description('create or update AppSets from YAML documents (nothing reaches a cluster until a rollout)')
    .requiredOption('-f, --filename <path>', 'a file or folder of AppSet documents (repeatable)', collect, [])
    .option('--force', 'apply even if the deletion breaker trips')
    .option('-m, --message <text>', 'a message for the new revision')
    .action(async (options: { filename: string[]; force?: boolean; message?: string }, command: Command) => {
      const { files, issues } = readAppSetFiles(options.filename);
      if (reportSyntax(io, issues)) throw new CliError('nothing applied: fix the YAML errors above', ExitCode.negative);
      const client = contextFor(io, command).client();
      let refused = 0;
      for (const { file, documents } of files) {
        for (const document of documents) {
          const { applyAppSet } = await client.request(ApplyAppSetDocument, { yaml: document.text, force: options.force === true, message: options.message ?? null });
          if (applyAppSet.issues.length > 0) {
            refused++;
            for (const issue of applyAppSet.issues) io.err(`${formatPositionedIssue(placeHubIssue(file, document, issue))}\n`);
            continue;
          }
          const applied = applyAppSet.appSet!;
          const pending = applied.apps.filter((a) => a.pendingRelease).length;
          io.out(`appset/${applied.name} ${applyAppSet.changed ? `configured (revision ${applied.revision}, ${pending} Apps pending release)` : 'unchanged'}\n`);
        }
      }
      if (refused > 0) throw new CliError(`${refused} document(s) refused: nothing of them was stored`, ExitCode.negative);
    });

  appSet
    .command('diff')
    .description('show per cluster what applying the documents would change (exit 0: no change, 1: changes, 2: error)')
    .requiredOption('-f, --filename <path>', 'a file or folder of AppSet documents (repeatable)', collect, [])
    .action(async (options: { filename: string[] }, command: Command) => {
      const { files, issues } = readAppSetFiles(options.filename);
      if (reportSyntax(io, issues)) throw new CliError('no diff: fix the YAML errors above');
      const client = contextFor(io, command).client();
      let exit: ExitCode = ExitCode.ok;
      for (const { file, documents } of files) {
        for (const document of documents) {
          const { previewAppSet } = await client.request(PreviewAppSetDocument, { yaml: document.text });
          for (const issue of previewAppSet.issues) io.err(`${formatPositionedIssue(placeHubIssue(file, document, issue))}\n`);
          const name = document.name ?? file;
          for (const cluster of previewAppSet.clusters) {
            for (const [kind, changes] of [['added', cluster.added], ['changed', cluster.changed], ['removed', cluster.removed]] as const) {
              for (const change of changes) {
                io.out(`${io.colors.bold(`diff appset/${name} cluster/${cluster.cluster} app/${change.app} (${kind})`)}\n`);
                io.out(`${colorDiff(change.diff.trimEnd(), io.colors)}\n`);
              }
            }
          }
          exit = Math.max(exit, decideDiffExit(previewAppSet)) as ExitCode;
        }
      }
      if (exit === ExitCode.error) throw new CliError('the hub found issues (above): no complete diff', ExitCode.error);
      // Changes are an answer, not an error: exit 1 without a message.
      if (exit !== ExitCode.ok) throw new CliError('', exit);
    });

  withOutput(appSet.command('list').description('list AppSets')).action(async (_options: unknown, command: Command) => {
    const { appSets } = await contextFor(io, command).client().request(AppSetsDocument, {});
    printOutput(io, outputOf(command), appSets, appSetView(io), appSets);
  });

  withOutput(
    appSet
      .command('get <name>')
      .description('show an AppSet and its Apps')
      .option('--cluster <cluster>', 'only the Apps on this cluster')
      .option('--project <project>', 'the project of the AppSet, when two projects have one of that name'),
  ).action(async (name: string, options: { cluster?: string; project?: string }, command: Command) => {
    const detail = await getAppSet(contextFor(io, command).client(), name, options.project);
    const apps = options.cluster ? detail.apps.filter((a) => a.cluster === options.cluster) : detail.apps;
    const shown = { ...detail, apps };
    const format = outputOf(command);
    if (format === 'json' || format === 'yaml') return printOutput(io, format, shown, appView, apps);
    if (format === 'name') return printOutput(io, format, shown, appSetView(io), [shown]);
    printOutput(io, format, shown, appSetView(io), [shown]);
    io.out('\n');
    printOutput(io, format, shown, appView, apps, 'No Apps.');
  });

  withOutput(
    appSet
      .command('history <name>')
      .description('the revisions of an AppSet, newest first; --diff FROM TO shows what changed between two')
      .option('--diff <revisions...>', 'the unified diff of the documents of two revisions, e.g. --diff 1 2')
      .option('--project <project>', 'the project of the AppSet, when two projects have one of that name'),
  ).action(async (name: string, options: { project?: string; diff?: string[] }, command: Command) => {
    const client = contextFor(io, command).client();
    if (options.diff) {
      const [from, to] = options.diff.map(Number);
      if (options.diff.length !== 2 || !Number.isInteger(from) || !Number.isInteger(to)) throw new CliError('--diff takes two revision numbers, e.g. --diff 1 2');
      const { appSetRevisionDiff } = await client.request(AppSetRevisionDiffDocument, { name, project: options.project ?? null, from: from!, to: to! });
      io.out(`${colorDiff(appSetRevisionDiff.trimEnd(), io.colors)}\n`);
      return;
    }
    const { appSet: found } = await client.request(AppSetHistoryDocument, { name, project: options.project ?? null });
    if (!found) throw new CliError(`no AppSet named "${name}"`);
    printOutput(io, outputOf(command), found.revisions, revisionView(io), found.revisions);
  });

  withOutput(
    appSet
      .command('explain <name>')
      .description('why each App has its parameters: the generator elements, Git commits and chart it came from')
      .option('--cluster <cluster>', 'only the Apps on this cluster')
      .option('--project <project>', 'the project of the AppSet, when two projects have one of that name'),
  ).action(async (name: string, options: { cluster?: string; project?: string }, command: Command) => {
    const all = await explainedApps(contextFor(io, command).client(), name, options.project);
    const apps = options.cluster ? all.filter((a) => a.cluster === options.cluster) : all;
    const format = outputOf(command);
    if (format !== 'table' && format !== 'wide') {
      return printOutput(io, format, apps, { columns: [], name: (a) => `app/${a.cluster}/${a.name}` }, apps);
    }
    if (apps.length === 0) io.err('No Apps.\n');
    for (const app of apps) {
      io.out(`${io.colors.bold(`app/${app.cluster}/${app.name}`)} (staged ${shortRevision(app.stagedRevision)})\n`);
      if (!app.explain) {
        io.out('  staged for removal: nothing to explain\n\n');
        continue;
      }
      const body = {
        sources: app.explain.sources.map((s) => ({ generator: s.generator, element: s.element, ...(s.git ? { git: s.git } : {}) })),
        ...(app.explain.git.length ? { git: app.explain.git } : {}),
        ...(app.explain.helm ? { helm: app.explain.helm } : {}),
        parameters: app.explain.parameters,
      };
      io.out(`${indent(stringify(body, { lineWidth: 0 }))}\n`);
    }
  });

  withOutput(
    appSet
      .command('generate')
      .description('the Apps the documents would produce, with their parameters (asks the hub to expand; stores nothing)')
      .requiredOption('-f, --filename <path>', 'a file or folder of AppSet documents (repeatable)', collect, []),
  ).action(async (options: { filename: string[] }, command: Command) => {
    const { files, issues } = readAppSetFiles(options.filename);
    if (reportSyntax(io, issues)) throw new CliError('nothing generated: fix the YAML errors above');
    const client = contextFor(io, command).client();
    const apps: (GeneratedApp & { appSet: string })[] = [];
    let failed = false;
    for (const { file, documents } of files) {
      for (const document of documents) {
        const { previewAppSet } = await client.request(GenerateAppSetDocument, { yaml: document.text });
        if (previewAppSet.issues.length > 0) {
          failed = true;
          for (const issue of previewAppSet.issues) io.err(`${formatPositionedIssue(placeHubIssue(file, document, issue))}\n`);
          continue;
        }
        const staged = await stagedApps(client, document);
        for (const app of generatedApps(previewAppSet, staged)) apps.push({ appSet: document.name ?? file, ...app });
      }
    }
    printOutput(io, outputOf(command), apps, generatedView, apps, 'The documents produce no App.');
    if (failed) throw new CliError('the hub found issues (above)', ExitCode.negative);
  });
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
