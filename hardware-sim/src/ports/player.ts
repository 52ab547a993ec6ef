// Plays a time-ordered list of writes (and plug events) into one port against a shared wall
// clock. Used by both `replay` and `flight`: several ports each run one player from the same
// start time, which interleaves them in time order, and a port whose reader is slow holds back
// only itself (backpressure), never the others.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PtyPort } from './pty.js';

export type PortAction =
  | { kind: 'write'; atUs: number; bytes: Buffer }
  /** Pull the plug, and plug back in `forUs` later (wall µs); writes in between are lost. */
  | { kind: 'unplug'; atUs: number; forUs: number };

export interface PlayResult {
  lines: number;
  bytes: number;
  /** Bytes that went nowhere because the port was unplugged. */
  droppedBytes: number;
}

/** Wall-clock milliseconds on a monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

/** Sleeps until `targetMs` on the nowMs() clock (at once if it has passed). */
export async function sleepUntil(targetMs: number, signal?: AbortSignal): Promise<void> {
  const waitMs = targetMs - nowMs();
  if (waitMs > 1) await sleep(waitMs, undefined, { signal }).catch(() => undefined);
}

/**
 * Writes every action at `startMs + atUs/1000`. Stops early when `signal` aborts. Returns what was
 * written; `onAction` sees each action after it is done.
 */
export async function playPort(
  port: PtyPort,
  actions: Iterable<PortAction>,
  startMs: number,
  signal?: AbortSignal,
): Promise<PlayResult> {
  const result: PlayResult = { lines: 0, bytes: 0, droppedBytes: 0 };
  const replugs: Promise<void>[] = [];
  const droppedBefore = port.bytesDropped;
  for (const action of actions) {
    if (signal?.aborted) break;
    await sleepUntil(startMs + action.atUs / 1000, signal);
    if (signal?.aborted) break;
    if (action.kind === 'write') {
      await port.write(action.bytes);
      result.lines += 1;
      result.bytes += action.bytes.length;
    } else {
      await port.unplug();
      const replugAtMs = nowMs() + action.forUs / 1000;
      replugs.push(sleepUntil(replugAtMs, signal).then(() => port.replug()));
    }
  }
  await Promise.all(replugs);
  await port.flush();
  result.droppedBytes = port.bytesDropped - droppedBefore;
  return result;
}

/** How often the linger loop looks at what socat has passed on. */
const LINGER_POLL_MS = 50;

/**
 * Holds the ports after the last write so the reader gets the tail (as gpsfake does): waits until
 * socat has passed every byte into each PTY, then `lingerMs` more for the reader to empty the
 * PTY's few-kB queue. Gives up when nothing moves for `lingerMs` (no reader). Where /proc cannot
 * tell what socat passed on, simply waits `lingerMs`.
 */
export async function lingerUntilRead(ports: readonly PtyPort[], lingerMs: number, signal?: AbortSignal): Promise<void> {
  let lastProgressMs = nowMs();
  let lastTotal = -1;
  for (;;) {
    if (signal?.aborted) return;
    let total = 0;
    let isKnown = true;
    let isDone = true;
    for (const port of ports) {
      const delivered = await port.deliveredBytes();
      if (delivered === null) {
        isKnown = false;
        continue;
      }
      total += delivered;
      if (port.isPlugged && delivered < port.bytesWritten) isDone = false;
    }
    if (!isKnown || isDone) break;
    if (total !== lastTotal) {
      lastTotal = total;
      lastProgressMs = nowMs();
    } else if (nowMs() - lastProgressMs > lingerMs) {
      return;
    }
    await sleep(LINGER_POLL_MS);
  }
  await sleep(lingerMs, undefined, { signal }).catch(() => undefined);
}
