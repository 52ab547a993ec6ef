// What every subcommand shares: number and time parsing for options, Ctrl-C handling.
import { InvalidArgumentError } from 'commander';
import { SimError } from '../errors.js';
import { closeAllPorts, killAllPortsNow } from '../ports/pty.js';

export function numberArg(what: string, check: (n: number) => boolean = Number.isFinite): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${what}`);
    return n;
  };
}

/** `--start-utc`: an ISO time with a zone, as µs since the epoch; null when not given. */
export function parseStartUtc(text: string | undefined): number | null {
  if (text === undefined) return null;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || !/Z|[+-]\d{2}:?\d{2}$/.test(text)) {
    throw new SimError('BAD_INPUT', `--start-utc ${text}: expected an ISO time with a zone, e.g. 2024-05-01T10:00:00Z`);
  }
  return ms * 1000;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * An AbortSignal that fires on the first Ctrl-C / SIGTERM (the command then stops, reports and
 * removes its ports); a second one removes the ports and exits at once. Ports are also removed if
 * the process exits any other way.
 */
export function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      controller.abort();
      return;
    }
    void closeAllPorts().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllPortsNow);
  return controller.signal;
}

/** Sleeps until the signal fires. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

