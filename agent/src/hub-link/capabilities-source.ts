import type { Clock, Timer } from '../clock.js';
import type { DriverCapabilities } from '../driver/cluster-driver.js';
import type { Logger } from '../log.js';

/** How long one discovery may take before Hello goes with what was known before. */
export const DISCOVERY_TIMEOUT_MS = 20_000;

/**
 * The cluster's capabilities for Hello: discovered once before the link starts, and again in the
 * background before each later Hello (a cluster upgraded under a running agent is reported at its
 * next connect). One discovery at a time; a failed or timed-out one keeps what was known.
 */
export class CapabilitiesSource {
  readonly #discover: () => Promise<DriverCapabilities>;
  readonly #clock: Clock;
  readonly #log: Logger;
  #latest: DriverCapabilities | undefined;
  #running: Promise<void> | undefined;

  constructor(discover: () => Promise<DriverCapabilities>, clock: Clock, log: Logger) {
    this.#discover = discover;
    this.#clock = clock;
    this.#log = log;
  }

  /** What Hello carries now; starts a refresh for the next one. */
  forHello(): DriverCapabilities | undefined {
    void this.refresh();
    return this.#latest;
  }

  /** Discovers again (joins a discovery already running); resolves within {@link DISCOVERY_TIMEOUT_MS}. */
  refresh(): Promise<void> {
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #run(): Promise<void> {
    let timer: Timer | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = this.#clock.setTimer(() => resolve(undefined), DISCOVERY_TIMEOUT_MS)));
    try {
      const found = await Promise.race([this.#discover(), timeout]);
      if (found === undefined) {
        this.#log.warn('API discovery took too long; Hello reports the capabilities known before', { timeoutMs: DISCOVERY_TIMEOUT_MS });
        return;
      }
      if (found.discoveryError !== '' && this.#latest !== undefined && this.#latest.discoveryError === '') {
        this.#log.warn('API discovery failed; Hello reports the capabilities known before', { error: found.discoveryError });
        return;
      }
      if (found.discoveryError !== '') this.#log.warn('API discovery failed', { error: found.discoveryError });
      this.#latest = found;
    } catch (error) {
      this.#log.warn('API discovery failed; Hello reports the capabilities known before', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      timer?.cancel();
    }
  }
}
