/**
 * `npm run bench [-- --full] [--only S2[,S5]]`: runs the benchmark scenarios of BENCH.md (../shared/BENCH.md from the repository root)
 * (S1 to S7), each group of cases in a child process of its own (so that peak RSS and a
 * crash belong to one case), prints a Markdown table per scenario, writes JSON and Markdown under
 * test/bench/results/<run>/ and appends the ratios to test/bench/history.jsonl. It reports; it
 * asserts nothing about speed. Exit code 1 only when a scenario crashed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCleanups } from './lib/cleanup.js';
import type { CaseResult } from './lib/pairs.js';
import type { ScenarioReport } from './lib/report.js';
import type { Profile } from './scenarios/registry.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

// The raw baselines' child entries import only what they use (no hub, no scenarios), so that their
// start, which S4 measures, is a bare server's start (plus the module runner's).
if (args[0] === '--raw-hub') {
  const { runRawHub } = await import('./scenarios/raw-hub.js');
  await runRawHub(args.slice(1));
} else if (args[0] === '--raw-idle') {
  const { runRawIdleServer } = await import('./lib/raw-idle-server.js');
  await runRawIdleServer(args.slice(1));
} else if (option('--group') !== undefined) {
  await runChild(option('--scenario')!, option('--group')!, option('--profile') as Profile, option('--out')!);
} else {
  process.exitCode = await orchestrate();
}

/** Child mode: runs one group of cases and writes its results as JSON to `out`. */
async function runChild(scenarioId: string, group: string, profile: Profile, out: string): Promise<void> {
  const { SCENARIOS } = await import('./scenarios/registry.js');
  const scenario = SCENARIOS.find((s) => s.id === scenarioId);
  if (!scenario) throw new Error(`unknown scenario ${scenarioId}`);
  process.once('SIGTERM', () => void runCleanups().finally(() => process.exit(143)));
  let results: CaseResult[];
  try {
    results = await scenario.runGroup(group, profile);
  } finally {
    await runCleanups();
  }
  writeFileSync(out, JSON.stringify(results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  // Links, pools and servers are closed by the scenario; exit anyway so that a stray timer cannot hold the run.
  process.exit(0);
}

async function orchestrate(): Promise<number> {
  const { SCENARIOS } = await import('./scenarios/registry.js');
  const { machineFacts, writeReport } = await import('./lib/report.js');
  const profile: Profile = args.includes('--full') ? 'full' : 'quick';
  const only = option('--only')?.toUpperCase().split(',');
  const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
  if (selected.length === 0) {
    console.error(`--only names no scenario; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
    return 2;
  }
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = fileURLToPath(new URL(`./results/${runId}`, import.meta.url));
  const machine = machineFacts();
  let crashed = false;
  const tables: string[] = [];
  for (const scenario of selected) {
    const cases: CaseResult[] = [];
    let error: string | undefined;
    for (const group of scenario.groups(profile)) {
      console.log(`[bench] ${scenario.id} ${group} (${profile}) ...`);
      try {
        cases.push(...(await runGroupInChild(scenario.id, group, profile, scenario.groupTimeoutMs(profile))));
      } catch (e) {
        error = `${error ? `${error}; ` : ''}${group}: ${(e as Error).message}`;
        console.error(`[bench] ${scenario.id} ${group} crashed: ${(e as Error).message}`);
      }
    }
    if (error) crashed = true;
    const report: ScenarioReport = { scenario: scenario.id, title: scenario.title, profile, notes: scenario.notes, cases, ...(error ? { error } : {}) };
    const table = writeReport(resultsDir, report, machine);
    tables.push(table);
    console.log(`\n${table}\n`);
  }
  console.log(`[bench] results in ${resultsDir}`);
  return crashed ? 1 : 0;
}

/** Runs `node --expose-gc bench.mjs --scenario ... --group ...`, killing it after `timeoutMs`. */
function runGroupInChild(scenario: string, group: string, profile: Profile, timeoutMs: number): Promise<CaseResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
  const out = join(dir, 'result.json');
  const entry = fileURLToPath(new URL('./bench.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', entry, '--scenario', scenario, '--group', group, '--profile', profile, '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise<CaseResult[]>((resolve, reject) => {
    // SIGTERM lets the child run its cleanups (hub, nats-server, database); SIGKILL if it does not exit.
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      reject(new Error(`no result within ${timeoutMs / 1000} s (stopped)`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      try {
        if (code !== 0) throw new Error(`exited with ${signal ?? code}`);
        resolve(JSON.parse(readFileSync(out, 'utf8')) as CaseResult[]);
      } catch (e) {
        reject(e as Error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
