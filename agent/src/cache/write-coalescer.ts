/**
 * Coalesces durable writes of an in-memory state: `flush()` resolves once everything changed before the
 * call is written. At most one write runs at a time; callers that arrive while one runs share one more
 * write after it (that write's snapshot covers all of them), so a burst of changes costs two writes,
 * not one per change.
 */
export class WriteCoalescer {
  readonly #write: () => Promise<void>;
  #writing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  /** `write` must take its snapshot synchronously, before its first `await`. */
  constructor(write: () => Promise<void>) {
    this.#write = write;
  }

  /** Resolves once everything changed before this call is durable; rejects if that write fails. */
  flush(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    if (this.#writing === undefined) {
      this.#writing = this.#write().finally(() => {
        this.#writing = undefined;
      });
      return this.#writing;
    }
    // The running write took its snapshot before this change; one more write covers every caller
    // that arrives until it starts.
    this.#queued = this.#writing
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.flush();
      });
    return this.#queued;
  }
}
