import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { eventually } from '../harness/eventually.js';
import { openGraphqlSocket } from '../harness/probes.js';
import { startHub, type HubProcess } from '../harness/processes.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The README's examples, run as a reader would run them against `npm start` (the demo fleet, the
 * embedded database in a fresh data folder, the admin token the hub generated), in the order the
 * README gives them:
 *
 * - every ```graphql block, each operation in it on its own, over POST (a subscription over
 *   graphql-ws, until its first answer): no GraphQL error, and no `issues` in the answer;
 * - every ```sh block right after a `<!-- test: run -->` line, with bash, `FLOTILLA_URL` and
 *   `FLOTILLA_TOKEN` set as the Quick start exports them: exit code 0, and no GraphQL error in what it
 *   prints.
 *
 * Variables: `$yaml` is the README's AppSet named by a `<!-- test: yaml=<name> -->` line before the
 * block (default `web`); `$id` is the last `id` a mutation of an earlier example answered (a rollout
 * from startRollout, a token from createApiToken). An operation whose line ends in
 * `# repeat until <field> is <value>` is repeated (at most a minute) until its answer says so, as the
 * reader is told to.
 */
interface Example {
  readonly language: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly text: string;
  /** `key=value` pairs (and bare words, as `key=''`) of the `<!-- test: ... -->` line before the fence. */
  readonly marks: ReadonlyMap<string, string>;
}

function examplesOf(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!open) {
      if (/^```/.test(lines[i]!)) i = closingFence(lines, i);
      continue;
    }
    const end = closingFence(lines, i);
    let previous = i - 1;
    while (previous >= 0 && lines[previous]!.trim() === '') previous--;
    const comment = previous >= 0 ? /^<!--\s*test:\s*(.*?)\s*-->$/.exec(lines[previous]!.trim()) : null;
    const marks = new Map<string, string>();
    for (const word of comment?.[1]?.split(/\s+/).filter(Boolean) ?? []) {
      const [key, value = ''] = word.split('=');
      marks.set(key!, value);
    }
    examples.push({ language: open[1]!, line: i + 1, text: lines.slice(i + 1, end).join('\n'), marks });
    i = end;
  }
  return examples;
}

function closingFence(lines: readonly string[], open: number): number {
  for (let j = open + 1; j < lines.length; j++) if (/^```\s*$/.test(lines[j]!)) return j;
  throw new Error(`README.md: the code block at line ${open + 1} is never closed`);
}

/** The AppSets written out in full in the README's ```yaml blocks, by name. */
function appSetsOf(examples: readonly Example[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const example of examples.filter((e) => e.language === 'yaml')) {
    let document: unknown;
    try {
      document = parseYaml(example.text);
    } catch {
      continue;
    }
    const { kind, metadata } = (document ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
    if (kind === 'AppSet' && typeof metadata?.name === 'string' && !found.has(metadata.name)) found.set(metadata.name, example.text);
  }
  return found;
}

/** Every value of a field named `key` in an answer, in document order. */
function valuesOf(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesOf(item, key));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [...(k === key ? [v] : []), ...valuesOf(v, key)]);
}

interface GraphqlAnswer {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

describe('every example of the README runs as written against npm start', () => {
  // FLOTILLA_README: another copy of the README, to try edits to it before they land.
  const markdown = readFileSync(process.env['FLOTILLA_README'] || join(REPOSITORY, 'README.md'), 'utf8');
  const examples = examplesOf(markdown);
  const appSets = appSetsOf(examples);
  const runnable = examples.filter((e) => e.language === 'graphql' || (e.language === 'sh' && e.marks.has('run')));
  let hub: HubProcess;
  /** The last `id` a mutation answered. */
  let lastId: string | undefined;

  beforeAll(async () => {
    // Like `npm start`: the demo fleet, the embedded database, and the token the hub generates.
    hub = await startHub({ args: ['--demo'], presetAdminToken: false });
    await eventually(
      async () => {
        const answer = await post(`{ clusters { connected apps { health } } }`, {});
        const clusters = (answer.data as { clusters?: { connected: boolean; apps: { health: string }[] }[] } | undefined)?.clusters ?? [];
        return clusters.length === 3 && clusters.every((c) => c.connected && c.apps.every((a) => a.health === 'HEALTHY'));
      },
      { timeoutMs: 90_000, what: `the demo fleet connected and HEALTHY\n${hub?.tail(20)}` },
    );
  });

  afterAll(async () => {
    await hub?.stop('SIGTERM', 15_000);
  });

  async function post(query: string, variables: Record<string, unknown>): Promise<GraphqlAnswer> {
    const response = await fetch(hub.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphqlAnswer;
  }

  function variablesFor(operation: OperationDefinitionNode, example: Example): Record<string, unknown> {
    const variables: Record<string, unknown> = {};
    for (const definition of operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      if (name === 'yaml') {
        const appSet = example.marks.get('yaml') || 'web';
        const yaml = appSets.get(appSet);
        if (yaml === undefined) throw new Error(`README.md line ${example.line}: $yaml names the AppSet "${appSet}", which no yaml block of the README writes out`);
        variables[name] = yaml;
      } else if (name === 'id') {
        if (lastId === undefined) throw new Error(`README.md line ${example.line}: $id needs an earlier example whose mutation answers an id`);
        variables[name] = lastId;
      } else {
        throw new Error(`README.md line ${example.line}: no value for $${name} (the test knows $yaml and $id)`);
      }
    }
    return variables;
  }

  async function runOperation(example: Example, operation: OperationDefinitionNode, comment: string): Promise<void> {
    const query = print(operation);
    const variables = variablesFor(operation, example);
    const where = `README.md line ${example.line}: ${query.replace(/\s+/g, ' ').slice(0, 120)}`;
    if (operation.operation === 'subscription') {
      const socket = openGraphqlSocket(hub.graphqlUrl, { connectionParams: { authorization: `Bearer ${hub.adminToken}` }, query, variables });
      const first = await socket.firstNext.finally(() => socket.close());
      expect((first.payload as GraphqlAnswer).errors, where).toBeUndefined();
      return;
    }
    const until = /#\s*repeat until (\w+) is (\S+)/.exec(comment);
    const answer = until
      ? await eventually(
          async () => {
            const seen = await post(query, variables);
            return seen.errors?.length || valuesOf(seen.data, until[1]!).some((v) => String(v) === until[2]) ? seen : undefined;
          },
          { timeoutMs: 60_000, what: `${where}: ${until[1]} is ${until[2]}` },
        )
      : await post(query, variables);
    expect(answer.errors ?? [], where).toEqual([]);
    // An example whose answer lists problems is as broken as one that fails.
    expect(valuesOf(answer.data, 'issues').flat(), where).toEqual([]);
    if (operation.operation === 'mutation') {
      const ids = valuesOf(answer.data, 'id').filter((id): id is string => typeof id === 'string');
      if (ids.length > 0) lastId = ids.at(-1);
    }
  }

  it('finds the examples it runs', () => {
    expect(runnable.filter((e) => e.language === 'graphql').length).toBeGreaterThanOrEqual(10);
    expect(runnable.filter((e) => e.language === 'sh').length).toBeGreaterThanOrEqual(1);
    expect(appSets.has('web')).toBe(true);
  });

  it.each(runnable.map((example) => [`${example.language} at line ${example.line}`, example] as const))('%s', async (_title, example) => {
    if (example.language === 'sh') {
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', example.text], {
        cwd: REPOSITORY,
        env: { ...process.env, FLOTILLA_URL: hub.graphqlUrl, FLOTILLA_TOKEN: hub.adminToken },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect({ status: run.status, stderr: run.stderr }, `README.md line ${example.line}`).toMatchObject({ status: 0 });
      let printed: unknown;
      try {
        printed = JSON.parse(run.stdout);
      } catch {
        printed = undefined;
      }
      if (printed !== undefined) expect((printed as GraphqlAnswer).errors ?? [], `README.md line ${example.line}`).toEqual([]);
      return;
    }
    const document = parse(example.text);
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      // The rest of the operation's last line: where a `# repeat until ...` comment goes.
      const end = definition.loc?.end ?? 0;
      const lineEnd = example.text.indexOf('\n', end);
      await runOperation(example, definition, example.text.slice(end, lineEnd === -1 ? undefined : lineEnd));
    }
  });
});
