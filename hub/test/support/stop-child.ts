import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child process started by a test and resolves once it has exited (SIGTERM, then SIGKILL after
 * `graceMs`), so that removing its files afterwards does not race with its last writes.
 */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
