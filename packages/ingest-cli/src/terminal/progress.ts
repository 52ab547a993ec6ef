// Progress of long work on a terminal (bytes, rate, ETA) with cli-progress, on stderr; nothing
// at all when stderr is not a TTY (logs and pipes stay clean).
import cliProgress from 'cli-progress';
import { formatBytes } from '@flysnap/shared';

export interface ProgressReporter {
  /** Shows `phase` at doneBytes of totalBytes. */
  update(phase: string, doneBytes: number, totalBytes: number): void;
  /** Prints something between bar redraws. */
  interrupt(print: () => void): void;
  stop(): void;
}

const QUIET: ProgressReporter = { update: () => undefined, interrupt: (print) => print(), stop: () => undefined };

/** Redraws at most this often, ms: more is noise on a slow terminal. */
const REDRAW_MS = 200;

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (stream.isTTY !== true) return QUIET;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      fps: 1000 / REDRAW_MS,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      etaBuffer: 50,
      format: (options, params, payload: { phase: string; done: string; total: string; rate: string }) => {
        const complete = Math.round(params.progress * (options.barsize ?? 30));
        const barText = '█'.repeat(complete) + '░'.repeat((options.barsize ?? 30) - complete);
        const eta = Number.isFinite(params.eta) && params.eta > 0 ? `${Math.round(params.eta)} s` : '-';
        return `${label} ${payload.phase} ${barText} ${payload.done} / ${payload.total}  ${payload.rate}  ETA ${eta}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let phaseStart = { phase: '', tMs: 0 };
  return {
    update(phase, doneBytes, totalBytes): void {
      const now = Date.now();
      if (phase !== phaseStart.phase) phaseStart = { phase, tMs: now };
      const seconds = Math.max((now - phaseStart.tMs) / 1000, 0.001);
      const payload = { phase, done: formatBytes(doneBytes), total: formatBytes(totalBytes), rate: `${formatBytes(doneBytes / seconds)}/s` };
      if (!started) {
        bar.start(Math.max(totalBytes, 1), doneBytes, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(totalBytes, 1));
        bar.update(doneBytes, payload);
      }
    },
    interrupt(print): void {
      if (!started) return print();
      stream.write('\r\x1b[K');
      print();
    },
    stop(): void {
      if (started) bar.stop();
    },
  };
}
