import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { startAgent, type AgentOptions, type RunningAgent } from '../../src/agent.js';
import { loadAgentConfig, type AgentConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/log.js';
import { FakeHub, type FakeHubOptions } from './fake-hub.js';

/**
 * The bench of one agent integration test: a scratch folder with the agent's state folder, the fake
 * hubs and agents the test started, and every line the agents logged. {@link useAgentLab} opens it
 * before each test and closes it after, so its folder and lines are the current test's.
 */
export class AgentLab {
  private readonly hubs: FakeHub[] = [];
  private readonly agents: RunningAgent[] = [];
  private scratch: string | undefined;
  private lines: string[] = [];

  /** The test's scratch folder, removed after it. */
  get root(): string {
    if (this.scratch === undefined) throw new Error('AgentLab: read it inside a test or a hook');
    return this.scratch;
  }

  /** The agent's state folder (FLOTILLA_STATE_DIR), inside {@link root}. */
  get stateDir(): string {
    return join(this.root, 'state');
  }

  /** Every line the agents of the test logged, at debug level. */
  get logLines(): string[] {
    return this.lines;
  }

  /** Starts a fake hub that is stopped after the test. */
  async startHub(options: FakeHubOptions = {}): Promise<FakeHub> {
    const hub = await FakeHub.start(options);
    this.hubs.push(hub);
    return hub;
  }

  /** The agent config of cluster edge-1 with this lab's state folder and debug logs, plus `env`; throws on issues. */
  config(env: Record<string, string | undefined>): AgentConfig {
    const result = loadAgentConfig({ FLOTILLA_CLUSTER_NAME: 'edge-1', FLOTILLA_STATE_DIR: this.stateDir, FLOTILLA_LOG_LEVEL: 'debug', ...env });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.config;
  }

  /** Starts an agent that logs into {@link logLines} and is stopped after the test; throws on issues. */
  async startAgent(config: AgentConfig, options: Omit<AgentOptions, 'log'>): Promise<RunningAgent> {
    const lines = this.lines;
    const started = await startAgent(config, { ...options, log: createLogger({ level: 'debug', write: (line) => lines.push(line) }) });
    if (!started.ok) throw new Error(JSON.stringify(started.issues));
    this.agents.push(started.agent);
    return started.agent;
  }

  /** Stops `agent` now, before the test ends. */
  async stopAgent(agent: RunningAgent): Promise<void> {
    await agent.stop();
    this.agents.splice(this.agents.indexOf(agent), 1);
  }

  /** Makes a new scratch folder named after `prefix` and forgets the lines logged before. */
  async open(prefix: string): Promise<void> {
    this.scratch = await mkdtemp(join(tmpdir(), prefix));
    this.lines = [];
  }

  /** Stops the agents, then the hubs; checks that nothing matching `secretsInLog` was logged; removes the scratch folder. */
  async close(secretsInLog: RegExp): Promise<void> {
    await Promise.all(this.agents.splice(0).map((agent) => agent.stop()));
    for (const hub of this.hubs.splice(0)) hub.stop();
    expect(this.lines.join('\n')).not.toMatch(secretsInLog);
    if (this.scratch !== undefined) await rm(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }
}

/**
 * The {@link AgentLab} of the enclosing `describe`: opened before each test with a scratch folder named
 * after `prefix`, closed after it, failing the test when a line the agents logged matches `secretsInLog`.
 */
export function useAgentLab(prefix: string, secretsInLog: RegExp): AgentLab {
  const lab = new AgentLab();
  beforeEach(() => lab.open(prefix));
  afterEach(() => lab.close(secretsInLog));
  return lab;
}
