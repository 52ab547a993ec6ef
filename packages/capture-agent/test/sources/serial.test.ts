// A serial source in the running agent (in process, real PTY, real array): every byte received ends
// up in the raw log, including pieces that never got their LF (binary junk cut at maxLineBytes, a
// partial line at unplug, a partial line at stop), and both replays of that raw log give back
// exactly the bytes sent. Waits on conditions, never on durations.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRawLog, type RawLogEntry } from '@flysnap/shared';
import { runAgent } from '../../src/agent/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, silentLogger } from '../../src/log/index.js';
import type { CapturePipeline } from '../../src/pipeline/index.js';
import { replayLogs } from '../../src/replay/index.js';
import { serialSources, type SerialSource } from '../../src/sources/serial.js';
import { fixture, rawLogBytes, readSummary, splitLines, writeConfig } from '../helpers/flight.js';
import { makePty, waitFor, type PtyPair } from '../helpers/pty.js';

const SIM = fileURLToPath(new URL('../../../../hardware-sim/dist/cli.js', import.meta.url));
const MAX_LINE_BYTES = 100;

let dir: string;
const ptys: PtyPair[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-src-'));
});
afterEach(async () => {
  for (const p of ptys.splice(0)) await p.unplug().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** Binary junk without any LF (CR, tab, backslash, NUL and high bytes included). */
function junk(length: number): Buffer {
  const b = Buffer.from(Array.from({ length }, (_, k) => (k * 37 + 11) & 0xff));
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) b[i] = 0x0b;
  return b;
}

/** Log records of the agent, as JSON objects. */
function recordingLogger(): { log: ReturnType<typeof createLogger>; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ out, isPretty: false, level: 'info' }), records };
}

/** Reads a port until `length` bytes came. */
async function readPort(path: string, length: number): Promise<Buffer> {
  const port = new SerialPort({ path, baudRate: 38400, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const parts: Buffer[] = [];
  let n = 0;
  port.on('data', (d: Buffer) => {
    parts.push(d);
    n += d.length;
  });
  try {
    await waitFor(() => n >= length, `${length} bytes from ${path}`);
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
  return Buffer.concat(parts);
}

describe('serial source: the raw log holds every byte received', () => {
  it('records an over-long binary line (cut), a partial line at unplug and one at stop without an LF; both replays give back the bytes sent', async () => {
    const array = join(dir, 'array');
    const devicePath = join(dir, 'gps-dev');
    const hostPath = join(dir, 'gps-host');
    let pty = await makePty(devicePath, hostPath);
    ptys.push(pty);
    const config = loadConfig(
      writeConfig(dir, array, [{ name: 'gps', role: 'gps', path: devicePath, maxLineBytes: MAX_LINE_BYTES, reconnectMinMs: 50, reconnectMaxMs: 100 }], {
        rawFlushMs: 50,
        dbFlushMs: 50,
      }),
    );
    const { log, records } = recordingLogger();
    const opened = (): number => records.filter((r) => r['port'] === 'gps' && r['msg'] === 'port open').length;
    let source: SerialSource | undefined;
    let pipeline: CapturePipeline | undefined;
    const abort = new AbortController();
    const running = runAgent({
      config,
      log,
      signal: abort.signal,
      sourceFactories: [
        (ctx) => {
          pipeline = ctx.pipeline;
          const made = serialSources(ctx) as SerialSource[];
          source = made[0];
          return made;
        },
      ],
    });
    const lines = splitLines(fixture('et-332.log'));
    const bin = junk(2 * MAX_LINE_BYTES + 50);
    const partialAtUnplug = Buffer.from('$GPRMC,1234');
    const partialAtStop = Buffer.from([0x24, 0x47, 0x00, 0xff, 0x5c, 0x0d]); // ends with CR, no LF
    const piecesReceived = (): number => pipeline?.ports.get('gps')?.lineCount ?? 0;
    try {
      await waitFor(() => opened() === 1, 'gps open');
      // Session 1: 40 lines, junk cut twice at maxLineBytes, its rest framed with the next line, a partial line.
      const first = Buffer.concat([...lines.slice(0, 40), bin, lines[40]!, partialAtUnplug]);
      pty.write(first);
      await waitFor(() => piecesReceived() === 40 + 3 && source?.pendingBytes === partialAtUnplug.length, 'first part received');
      await pty.unplug();
      // The partial line is handed on (and to the raw log) when the port is lost.
      await waitFor(() => piecesReceived() === 44 && source?.pendingBytes === 0, 'partial line flushed at unplug');
      pty = await makePty(devicePath, hostPath);
      ptys.push(pty);
      await waitFor(() => opened() === 2, 'gps open again');
      const second = Buffer.concat([...lines.slice(41, 80), partialAtStop]);
      pty.write(second);
      await waitFor(() => piecesReceived() === 44 + 39 && source?.pendingBytes === partialAtStop.length, 'second part received');
      abort.abort();
      await running;
      const sent = Buffer.concat([first, second]);

      // The raw log, re-joined, is exactly what was sent; the pieces without LF say so.
      const rawPath = join(array, 'serial', 'gps.log');
      const raw = rawLogBytes(rawPath);
      expect(raw.headers).toBe(1);
      expect(raw.bytes.equals(sent)).toBe(true);
      const decoded = decodeRawLog(readFileSync(rawPath));
      expect(decoded.rejected).toEqual([]);
      expect(decoded.truncated).toBeNull();
      const noLf = decoded.entries.filter((e) => !e.hasLf);
      const pick = (e: RawLogEntry): { bytes: Buffer; hasLf: boolean; isCut: boolean } => ({ bytes: e.bytes, hasLf: e.hasLf, isCut: e.isCut });
      expect(noLf.map(pick)).toEqual([
        { bytes: bin.subarray(0, MAX_LINE_BYTES), hasLf: false, isCut: true },
        { bytes: bin.subarray(MAX_LINE_BYTES, 2 * MAX_LINE_BYTES), hasLf: false, isCut: true },
        { bytes: partialAtUnplug, hasLf: false, isCut: false },
        { bytes: partialAtStop, hasLf: false, isCut: false },
      ]);
      expect(decoded.entries).toHaveLength(84);
      expect(decoded.entries.at(-1)?.bytes.equals(partialAtStop)).toBe(true);
      // The rest of the cut junk was framed with the next line, which had its LF.
      expect(decoded.entries[42]).toMatchObject({ hasLf: true, isCut: false, bytes: Buffer.concat([bin.subarray(2 * MAX_LINE_BYTES), lines[40]!.subarray(0, -1)]) });

      // Agent replay of the raw log: the bytes received and the counts are those of the live capture.
      const live = readSummary(array);
      const replayArray = join(dir, 'replay-array');
      const replayed = await replayLogs({ arrayRoot: replayArray, logs: [{ file: rawPath }], log: silentLogger() });
      expect(replayed.bytes).toBe(sent.length);
      expect(replayed.lines).toBe(84);
      expect(replayed.files[0]?.corruptLines).toBe(0);
      const again = readSummary(replayArray);
      expect(again.sentences.rows).toEqual(live.sentences.rows);
      expect(again.sentences.rejectedByReason['overlong']).toBe(3);
      expect(again.sentences.rejectedByReason).toEqual(live.sentences.rejectedByReason);

      // hardware-sim replay of the raw log (built by tsc -b with the rest): the port gets exactly the bytes sent.
      expect(existsSync(SIM), SIM).toBe(true);
      {
        const simPort = join(dir, 'replayed');
        const sim = spawn(process.execPath, [SIM, 'replay', '--port', `${simPort}=${rawPath}`, '--fast', '--wait-reader', '--linger', '2000', '--json'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let simOut = '';
        let simErr = '';
        sim.stdout.on('data', (d: Buffer) => (simOut += d.toString()));
        sim.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
        const simExit = new Promise<number | null>((resolve) => sim.on('exit', (code) => resolve(code)));
        await waitFor(() => existsSync(simPort), 'hardware-sim port');
        const got = await readPort(simPort, sent.length);
        expect(await simExit, simErr).toBe(0);
        expect(got.equals(sent)).toBe(true);
        expect(JSON.parse(simOut)).toMatchObject({ ports: [{ bytes: sent.length, logBytes: sent.length }] });
      }
    } finally {
      abort.abort();
      await running.catch(() => undefined);
    }
  });
});
