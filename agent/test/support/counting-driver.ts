import type { AppSpec, AppStatus, ClusterDriver, DriverResult, RemoveOptions, StatusListener } from '../../src/driver/cluster-driver.js';

/** Wraps a driver and records every apply and remove it is asked to do. */
export class CountingDriver implements ClusterDriver {
  readonly applied: string[] = [];
  readonly removed: string[] = [];
  readonly #inner: ClusterDriver;
  readonly #listeners = new Set<StatusListener>();

  constructor(inner: ClusterDriver) {
    this.#inner = inner;
  }

  apply(app: AppSpec): Promise<DriverResult> {
    this.applied.push(`${app.appName}#${app.generation}`);
    return this.#inner.apply(app);
  }
  remove(appName: string, options: RemoveOptions): Promise<DriverResult> {
    this.removed.push(appName);
    return this.#inner.remove(appName, options);
  }
  status(appName: string): AppStatus | undefined {
    return this.#inner.status(appName);
  }
  onStatusChange(listener: StatusListener): () => void {
    const unsubscribe = this.#inner.onStatusChange(listener);
    this.#listeners.add(listener);
    return () => {
      unsubscribe();
      this.#listeners.delete(listener);
    };
  }
  /** Announces a status as if the wrapped driver had judged it (for what a simulation cannot produce). */
  emitStatus(status: AppStatus): void {
    for (const listener of [...this.#listeners]) listener(status);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
