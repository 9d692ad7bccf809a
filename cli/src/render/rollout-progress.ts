import cliProgress from 'cli-progress';
import { progressLine, waveProgress, type RolloutProgressView } from '../core/rollout-view.js';
import type { Io } from '../io.js';

/** Draws a rollout as it changes: live bars on a terminal, one line per change otherwise. */
export interface RolloutProgressDisplay {
  update(view: RolloutProgressView): void;
  /** Leaves the last state on screen. */
  stop(): void;
}

export function rolloutProgressDisplay(io: Io): RolloutProgressDisplay {
  return io.stdoutIsTTY ? new LiveBars(io) : new ChangeLines(io);
}

/** CI mode: the summary line each time it differs from the last one printed. */
class ChangeLines implements RolloutProgressDisplay {
  private last = '';
  constructor(private readonly io: Io) {}
  update(view: RolloutProgressView): void {
    const line = progressLine(view);
    if (line === this.last) return;
    this.last = line;
    this.io.out(`${this.io.now().toISOString()} ${line}\n`);
  }
  stop(): void {}
}

/**
 * One bar per wave (settled = healthy + failed + skipped, of total), the current wave marked and
 * bold, with its counts and why it waits; a status line above with the phase and reason.
 */
class LiveBars implements RolloutProgressDisplay {
  private readonly multi: cliProgress.MultiBar;
  private status: cliProgress.SingleBar | undefined;
  private readonly bars = new Map<string, cliProgress.SingleBar>();

  constructor(private readonly io: Io) {
    this.multi = new cliProgress.MultiBar(
      {
        stream: io.stdout,
        format: '{marker} {wave} {bar} {counts}{note}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        autopadding: false,
        linewrap: false,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(view: RolloutProgressView): void {
    const c = this.io.colors;
    const phase = view.phase === 'SUCCEEDED' ? c.green(view.phase) : view.phase === 'PROGRESSING' ? c.cyan(view.phase) : c.yellow(view.phase);
    const status = { status: `rollout ${view.id} of ${view.appSet}: ${phase}${view.reason ? ` - ${view.reason}` : ''}` };
    if (!this.status) this.status = this.multi.create(1, 0, status, { format: '{status}' });
    else this.status.update(0, status);
    const waves = waveProgress(view);
    const width = Math.max(...waves.map((w) => w.name.length), 4);
    for (const wave of waves) {
      const counts = `${wave.healthy}/${wave.total} healthy` + (wave.failed ? `, ${c.red(`${wave.failed} failed`)}` : '') + (wave.skipped ? `, ${wave.skipped} skipped` : '');
      const payload = {
        marker: wave.current ? c.cyan('▶') : ' ',
        wave: wave.current ? c.bold(wave.name.padEnd(width)) : wave.name.padEnd(width),
        counts,
        note: wave.note ? `  ${c.yellow(wave.note)}` : '',
      };
      const bar = this.bars.get(wave.name);
      if (bar) {
        bar.setTotal(Math.max(wave.total, 1));
        bar.update(wave.settled, payload);
      } else {
        this.bars.set(wave.name, this.multi.create(Math.max(wave.total, 1), wave.settled, payload));
      }
    }
  }

  stop(): void {
    this.multi.stop();
  }
}
