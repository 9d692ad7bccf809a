/**
 * Cleanups of the current benchmark child (processes, databases, temporary folders), run last
 * registered first, once, whether the scenario ends, throws, or is stopped with SIGTERM.
 */
const cleanups: (() => Promise<void> | void)[] = [];

export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    try {
      await cleanup();
    } catch (error) {
      console.error(`[bench] cleanup failed: ${(error as Error).message}`);
    }
  }
}
