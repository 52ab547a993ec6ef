// What every subcommand shares: number parsing for options, Ctrl-C handling, error printing.
import { InvalidArgumentError } from 'commander';
import { closeAllPorts, killAllPortsNow } from '../ports/pty.js';

export function numberArg(what: string, check: (n: number) => boolean = Number.isFinite): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${what}`);
    return n;
  };
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

