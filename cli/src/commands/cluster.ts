import type { Command } from 'commander';
import { applyLabelEdits, parseLabelEdits, parsePairs } from '../core/labels.js';
import { formatAge } from '../core/duration.js';
import { ExitCode } from '../core/exit-codes.js';
import { formatLabels, shortRevision, type View } from '../core/output-format.js';
import {
  ClusterDocument,
  ClustersDocument,
  DeregisterClusterDocument,
  RegisterClusterDocument,
  SetClusterLabelsDocument,
  type ClusterQuery,
  type ClustersQuery,
} from '../gen/graphql.js';
import type { HubClient } from '../client/hub-client.js';
import { printOutput } from '../render/output.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { collect, contextFor, outputOf, withOutput } from './shared.js';

type ClusterRow = ClustersQuery['clusters'][number];
type ClusterDetail = NonNullable<ClusterQuery['cluster']>;

/** Clusters are read a page at a time (the hub caps the cost of one query); bounded at 1000 pages. */
const PAGE = 100;

async function listClusters(client: HubClient): Promise<ClusterRow[]> {
  const all: ClusterRow[] = [];
  for (let page = 0; page < 1000; page++) {
    const { clusters } = await client.request(ClustersDocument, { first: PAGE, offset: page * PAGE });
    all.push(...clusters);
    if (clusters.length < PAGE) break;
  }
  return all;
}

async function getCluster(client: HubClient, name: string): Promise<ClusterDetail> {
  const { cluster } = await client.request(ClusterDocument, { name });
  if (!cluster) throw new CliError(`no cluster named "${name}"`);
  return cluster;
}

function clusterView(io: Io): View<ClusterRow> {
  const now = io.now();
  return {
    columns: [
      { header: 'NAME', cell: (c) => c.name },
      { header: 'CONNECTED', cell: (c) => (c.connected ? 'true' : 'false') },
      { header: 'APPS', cell: (c) => String(c.apps.length) },
      { header: 'LAST SEEN', cell: (c) => formatAge(c.lastSeen, now) || '-' },
      { header: 'LABELS', cell: (c) => formatLabels(c.labels), flexible: true },
      { header: 'KUBERNETES', cell: (c) => c.kubernetesVersion ?? '-', wide: true },
      { header: 'AGENT', cell: (c) => c.agentVersion ?? '-', wide: true },
      { header: 'AGE', cell: (c) => formatAge(c.createdAt, now), wide: true },
    ],
    name: (c) => `cluster/${c.name}`,
  };
}

const appView: View<ClusterDetail['apps'][number]> = {
  columns: [
    { header: 'APP', cell: (a) => a.name },
    { header: 'APPSET', cell: (a) => a.appSet },
    { header: 'REVISION', cell: (a) => shortRevision(a.revision) },
    { header: 'HEALTH', cell: (a) => a.health },
    { header: 'SYNC', cell: (a) => a.syncStatus },
    { header: 'UP TO DATE', cell: (a) => String(a.upToDate) },
    { header: 'STAGED', cell: (a) => shortRevision(a.stagedRevision), wide: true },
    { header: 'MESSAGE', cell: (a) => a.message ?? '', flexible: true, wide: true },
  ],
  name: (a) => `app/${a.name}`,
};

export function registerClusterCommands(program: Command, io: Io): void {
  const cluster = program.command('cluster').description('registered clusters and their agents');

  withOutput(cluster.command('list').description('list clusters')).action(async (_options: unknown, command: Command) => {
    const clusters = await listClusters(contextFor(io, command).client());
    printOutput(io, outputOf(command), clusters, clusterView(io), clusters);
  });

  withOutput(cluster.command('get <name>').description("show a cluster and its Apps")).action(async (name: string, _options: unknown, command: Command) => {
    const detail = await getCluster(contextFor(io, command).client(), name);
    const format = outputOf(command);
    if (format !== 'table' && format !== 'wide') return printOutput(io, format, detail, clusterView(io), [detail]);
    printOutput(io, format, detail, clusterView(io), [detail]);
    io.out('\n');
    printOutput(io, format, detail, appView, detail.apps, 'No Apps on this cluster.');
  });

  withOutput(
    cluster
      .command('register <name>')
      .description("register a cluster and print the helm install command of its agent (it holds a one-time bootstrap token)")
      .option('-l, --label <key=value>', 'a label (repeatable)', collect, [])
      .option('--value <key=value>', 'a value templates read as cluster.values.<key> (repeatable)', collect, []),
    ['table', 'json', 'yaml', 'name'],
  ).action(async (name: string, options: { label: string[]; value: string[] }, command: Command) => {
    let labels: Record<string, string>;
    let values: Record<string, string>;
    try {
      labels = parsePairs(options.label, 'label');
      values = parsePairs(options.value, 'value');
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    const { registerCluster } = await contextFor(io, command).client().request(RegisterClusterDocument, { input: { name, labels, values } });
    const format = outputOf(command);
    if (format === 'table') {
      io.err(`Cluster ${name} registered. Install its agent with (the bootstrap token in it works once and expires ${registerCluster.bootstrapTokenExpiresAt}):\n`);
      io.out(`${registerCluster.agentInstallCommand}\n`);
      return;
    }
    printOutput(io, format, registerCluster, { columns: [], name: () => `cluster/${name}` }, [registerCluster]);
  });

  withOutput(
    cluster
      .command('labels <name> [changes...]')
      .description("show a cluster's labels, or change them: key=value sets, key- removes (AppSets are re-staged)"),
    ['table', 'json', 'yaml'],
  ).action(async (name: string, changes: string[], _options: unknown, command: Command) => {
    const client = contextFor(io, command).client();
    const current = await getCluster(client, name);
    let labels: Record<string, unknown> = current.labels;
    if (changes.length > 0) {
      let edits;
      try {
        edits = parseLabelEdits(changes);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      labels = (await client.request(SetClusterLabelsDocument, { cluster: name, labels: applyLabelEdits(current.labels, edits) })).setClusterLabels.labels;
    }
    const rows = Object.keys(labels)
      .sort()
      .map((key) => ({ key, value: String(labels[key]) }));
    printOutput(io, outputOf(command), labels, { columns: [{ header: 'KEY', cell: (r) => r.key }, { header: 'VALUE', cell: (r) => r.value }], name: (r) => r.key }, rows, 'No labels.');
  });

  withOutput(
    cluster
      .command('deregister <name>')
      .description('remove a cluster (its workloads keep running, unmanaged); refused when an AppSet would lose too many Apps, unless --force')
      .option('--force', "deregister even if an AppSet's deletion breaker trips"),
    ['table', 'json', 'yaml'],
  ).action(async (name: string, options: { force?: boolean }, command: Command) => {
    const { deregisterCluster } = await contextFor(io, command).client().request(DeregisterClusterDocument, { name, force: options.force === true });
    const format = outputOf(command);
    if (format !== 'table') printOutput(io, format, deregisterCluster, { columns: [], name: () => `cluster/${name}` }, []);
    if (deregisterCluster.deregistered) {
      if (format === 'table') io.out(`Cluster ${name} deregistered.\n`);
      return;
    }
    for (const issue of deregisterCluster.issues) io.err(`${issue.path}: ${issue.code} ${issue.message}\n`);
    throw new CliError(`cluster ${name} was not deregistered (pass --force to override the deletion breaker)`, ExitCode.negative);
  });
}
