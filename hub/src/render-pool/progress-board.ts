/**
 * What a render worker is working on, in shared memory: the worker writes before each step, the pool
 * reads after it stopped the worker (a worker stuck in a template loop cannot answer a message, and a
 * message per App would cost the event loop). Only names and paths are written, never values.
 *
 * Layout: an Int32 header (phase, App index, App count, then the byte length of each text slot)
 * followed by fixed-size UTF-8 text slots. A text is written length-last, so a worker stopped mid-write
 * leaves an empty slot rather than a torn one.
 */

/** What the worker was doing, in order. */
export const PHASES = ['queued', 'generators', 'apps', 'checks', 'diffs', 'sending'] as const;
export type Phase = (typeof PHASES)[number];

const Field = { Phase: 0, AppIndex: 1, AppTotal: 2, ClusterLength: 3, SourceLength: 4, LeafLength: 5 } as const;
const HEADER_INTS = 6;
const SLOT_BYTES = 512;
const SLOTS = { cluster: 0, source: 1, leaf: 2 } as const;
type Slot = keyof typeof SLOTS;
const LENGTH_FIELD: Record<Slot, number> = { cluster: Field.ClusterLength, source: Field.SourceLength, leaf: Field.LeafLength };

/** What the board said when it was read. */
export interface Progress {
  readonly phase: Phase;
  /** The App being rendered, from 1; 0 before the first. */
  readonly appIndex: number;
  readonly appTotal: number;
  readonly cluster: string;
  /** The generator element(s) behind the App, e.g. `spec.generators[0].list.elements[3]`. */
  readonly source: string;
  /** The template string being rendered, e.g. `spec.template.manifests[0].data.a`; '' between strings. */
  readonly leaf: string;
}

export class ProgressBoard {
  static readonly BYTES = HEADER_INTS * 4 + Object.keys(SLOTS).length * SLOT_BYTES;

  private readonly header: Int32Array;
  private readonly text: Uint8Array;
  private readonly encoder = new TextEncoder();

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(ProgressBoard.BYTES)) {
    this.header = new Int32Array(buffer, 0, HEADER_INTS);
    this.text = new Uint8Array(buffer, HEADER_INTS * 4);
  }

  phase(phase: Phase): void {
    Atomics.store(this.header, Field.Phase, PHASES.indexOf(phase));
    if (phase !== 'apps') this.write('leaf', '');
  }

  /** Before rendering the `index`-th (from 0) App of `total`. */
  app(index: number, total: number, cluster: string, source: string): void {
    Atomics.store(this.header, Field.Phase, PHASES.indexOf('apps'));
    Atomics.store(this.header, Field.AppIndex, index + 1);
    Atomics.store(this.header, Field.AppTotal, total);
    this.write('cluster', cluster);
    this.write('source', source);
    this.write('leaf', '');
  }

  leaf(path: string): void {
    this.write('leaf', path);
  }

  read(): Progress {
    return {
      phase: PHASES[Atomics.load(this.header, Field.Phase)] ?? 'queued',
      appIndex: Atomics.load(this.header, Field.AppIndex),
      appTotal: Atomics.load(this.header, Field.AppTotal),
      cluster: this.readSlot('cluster'),
      source: this.readSlot('source'),
      leaf: this.readSlot('leaf'),
    };
  }

  private write(slot: Slot, value: string): void {
    const field = LENGTH_FIELD[slot];
    Atomics.store(this.header, field, 0);
    if (value === '') return;
    const target = this.text.subarray(SLOTS[slot] * SLOT_BYTES, (SLOTS[slot] + 1) * SLOT_BYTES);
    // A cut in the middle of a character decodes as U+FFFD: harmless in a message.
    const { written } = this.encoder.encodeInto(value, target);
    Atomics.store(this.header, field, written);
  }

  private readSlot(slot: Slot): string {
    const length = Math.min(Atomics.load(this.header, LENGTH_FIELD[slot]), SLOT_BYTES);
    const start = SLOTS[slot] * SLOT_BYTES;
    // TextDecoder cannot read shared memory directly: copy the bytes out first.
    return new TextDecoder().decode(this.text.slice(start, start + length));
  }
}
