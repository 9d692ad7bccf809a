import { readFileSync } from 'node:fs';
import { startAgent } from './agent.js';
import { loadAgentConfig, type ConfigIssue } from './core/config.js';
import { createLogger } from './log.js';

// Stop waiting for a graceful shutdown after this long; Kubernetes' default grace period is 30 s.
const FORCED_EXIT_AFTER_MS = 20_000;

async function main(): Promise<void> {
  const loaded = loadAgentConfig(process.env);
  if (!loaded.ok) {
    printIssues(loaded.issues);
    process.exit(1);
  }
  const log = createLogger({ level: loaded.config.logLevel });
  const started = await startAgent(loaded.config, { log, agentVersion: readAgentVersion() });
  if (!started.ok) {
    printIssues(started.issues);
    process.exit(1);
  }

  const shutdown = (signal: string): void => {
    log.info('shutting down', { signal });
    setTimeout(() => {
      log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, FORCED_EXIT_AFTER_MS).unref();
    started.agent.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Started by a parent with an IPC channel (the hub's demo fleet): stop when the parent goes away,
  // even if it was killed without a chance to stop us.
  if (process.send) process.once('disconnect', () => shutdown('parent exited'));
}

function printIssues(issues: readonly ConfigIssue[]): void {
  process.stderr.write('flotilla agent: invalid configuration\n');
  for (const issue of issues) process.stderr.write(`  ${issue.path} (${issue.code}): ${issue.message}\n`);
}

// package.json sits one level above both src/ and dist/, so this works from either.
function readAgentVersion(): string {
  try {
    const manifest: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const version = typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : undefined;
    return typeof version === 'string' ? version : '0.0.0-dev';
  } catch {
    return '0.0.0-dev';
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`flotilla agent: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
