// The supervisor against real pseudo-terminals (socat): framing, unplug/replug, missing port,
// watchdog, reopens that fail. Waits on conditions, never on durations.
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { portConfigSchema } from '../../src/config/index.js';
import { silentLogger, type Logger } from '../../src/log/index.js';
import { PortSupervisor, type PortStatusChange } from '../../src/serial/supervisor.js';
import { capturedLog } from '../helpers/log.js';
import { makeInstrumentPty, makePty, waitFor, type InstrumentPty, type PtyPair } from '../helpers/pty.js';

let dir: string;
const ptys: PtyPair[] = [];
const instruments: InstrumentPty[] = [];
const sups: PortSupervisor[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sup-'));
});
afterEach(async () => {
  for (const s of sups.splice(0)) await s.stop();
  for (const p of ptys.splice(0)) await p.unplug().catch(() => undefined);
  for (const p of instruments.splice(0)) await p.unplug().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function supervise(path: string, extra: Record<string, unknown> = {}, log: Logger = silentLogger()): { sup: PortSupervisor; lines: string[]; states: PortStatusChange[] } {
  const config = portConfigSchema.parse({ name: 'gps', path, reconnectMinMs: 50, reconnectMaxMs: 200, ...extra });
  const lines: string[] = [];
  const states: PortStatusChange[] = [];
  const sup = new PortSupervisor(config, { line: (b) => lines.push(b.toString('latin1')), status: (s) => states.push(s) }, log);
  sups.push(sup);
  sup.start();
  return { sup, lines, states };
}

describe('PortSupervisor on a PTY', () => {
  it('delivers lines with terminators; reconnects after unplug; survives a missing start', async () => {
    const dev = join(dir, 'gps');
    const host = join(dir, 'gps-host');
    const { sup, lines, states } = supervise(dev);
    await waitFor(() => sup.state === 'missing', 'missing at start');
    expect(states[0]?.error?.code).toBe('MISSING');

    let pty = await makePty(dev, host);
    ptys.push(pty);
    await waitFor(() => sup.state === 'open', 'open after plug-in');
    pty.write('$GPZDA,1*00\r\n$GPZDA,2*00\n');
    await waitFor(() => lines.length === 2, 'two lines');
    expect(lines).toEqual(['$GPZDA,1*00\r\n', '$GPZDA,2*00\n']);

    await pty.unplug();
    await waitFor(() => sup.state === 'reconnecting', 'reconnecting after unplug');
    const lost = states.find((s) => s.state === 'reconnecting');
    expect(['UNPLUGGED', 'READ_ERROR']).toContain(lost?.error?.code);

    pty = await makePty(dev, host);
    ptys.push(pty);
    await waitFor(() => sup.state === 'open', 'open after replug');
    pty.write('$GPZDA,3*00\r\n');
    await waitFor(() => lines.length === 3, 'line after replug');
    expect(lines[2]).toBe('$GPZDA,3*00\r\n');
    await sup.stop();
    expect(sup.state).toBe('closed');
  });

  it('declares a port silent when no byte comes for watchdogMs, and open again when bytes return', async () => {
    const dev = join(dir, 'cmp');
    const pty = await makePty(dev, join(dir, 'cmp-host'));
    ptys.push(pty);
    const { sup, lines, states } = supervise(dev, { watchdogMs: 300 });
    await waitFor(() => sup.state === 'open', 'open');
    await waitFor(() => sup.state === 'silent', 'silent by watchdog');
    expect(states.find((s) => s.state === 'silent')?.error?.code).toBe('SILENT');
    // The watchdog closed and reopens the port; once bytes flow on a reopened port it is open again.
    // Bytes written while it is closed may be lost by the PTY, so keep sending until one arrives.
    while (lines.length === 0) {
      pty.write('$HCHDT,1.0,T*00\r\n');
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(() => sup.state === 'open', 'open again after data');
    expect(lines[0]).toBe('$HCHDT,1.0,T*00\r\n');
  });

  it('reopens a port that opened but delivers nothing again, twice as late each time, and listens in between: a line sent after a reopen arrives at the first try', async () => {
    const dev = join(dir, 'alt');
    const pty = await makePty(dev, join(dir, 'alt-host'));
    ptys.push(pty);
    const { sup, lines, states } = supervise(dev, { watchdogMs: 200 });
    await waitFor(() => sup.state === 'silent', 'silent');
    // A hung adapter may need more than one reopen: this one only talks after its second (the
    // third open). The next reopen would come only after 4 × watchdogMs of silence.
    await waitFor(() => sup.openCount >= 3, 'two watchdog reopens', 10_000);
    pty.write('$PGRMZ,1234,f,3*00\r\n');
    await waitFor(() => lines.length === 1, 'the one line', 10_000);
    expect(lines).toEqual(['$PGRMZ,1234,f,3*00\r\n']);
    await waitFor(() => sup.state === 'open', 'open again');
    // Reported once: silent while reopened and reopened, never lost.
    expect(states.map((s) => s.state)).toEqual(['open', 'silent', 'open']);
  });

  it('a device that went away while closed for a silent reopen is watched as a new one once it is back: silence limit watchdogMs again', async () => {
    const dev = join(dir, 'alt');
    const host = join(dir, 'alt-host');
    let pty = await makePty(dev, host);
    ptys.push(pty);
    const { lines, log } = capturedLog();
    const { sup } = supervise(dev, { watchdogMs: 100, reconnectMinMs: 300, reconnectMaxMs: 400 }, log);
    const stillSilent = (): Record<string, unknown>[] => lines().filter((l) => l.msg === 'port still silent: reopening it');
    await waitFor(() => stillSilent().length >= 3, 'three silent reopens', 10_000);
    // Unplugged while the port is closed for the next reopen (reconnectMinMs): that open fails.
    const n = stillSilent().length;
    await waitFor(() => stillSilent().length > n, 'the next silent reopen', 10_000);
    await pty.unplug();
    await waitFor(() => sup.state === 'reconnecting', 'the reopen fails');
    pty = await makePty(dev, host);
    ptys.push(pty);
    await waitFor(() => sup.state === 'open', 'open after the replug');
    const before = stillSilent().length;
    await waitFor(() => stillSilent().length > before, 'a silent reopen of the replugged device', 10_000);
    // Counted from the replug: the first reopen after it was declared silent (1), not the 5th+.
    expect(stillSilent()[before]?.reopens).toBe(1);
  });

  it('silent at start behind an instrument that holds its data for a reader (hardware-sim --wait-reader): reopened by the watchdog, then read once it talks', async () => {
    const dev = join(dir, 'alt');
    const inst = await makeInstrumentPty(dev, { waitSlave: true, ignoreEof: true, ptyIntervalS: 0.05 });
    instruments.push(inst);
    const { sup, lines } = supervise(dev, { watchdogMs: 200 });
    await waitFor(() => sup.state === 'silent', 'silent');
    await waitFor(() => sup.openCount >= 2, 'reopened by the watchdog');
    // The instrument starts talking, once a second as an altimeter would, here every 20 ms.
    let n = 0;
    const talk = setInterval(() => inst.write(`$PGRMZ,${1000 + n++},f,3*00\r\n`), 20);
    try {
      await waitFor(() => lines.length >= 5, 'lines from the instrument');
    } finally {
      clearInterval(talk);
    }
    await waitFor(() => sup.state === 'open', 'open');
    for (const line of lines.slice(-3)) expect(line).toMatch(/^\$PGRMZ,\d+,f,3\*00\r\n$/);
    expect(inst.hasExited()).toBe(false);
  });

  it('the demo failure: a --wait-reader instrument that ends when its reader closes it (socat wait-slave without ignoreeof) dies at the watchdog reopen; the supervisor retries until it is back, then reads it', async () => {
    const dev = join(dir, 'alt');
    const inst = await makeInstrumentPty(dev, { waitSlave: true, ptyIntervalS: 0.05 });
    instruments.push(inst);
    const { log, lines: logLines } = capturedLog();
    log.level = 'debug';
    const { sup, lines, states } = supervise(dev, { watchdogMs: 200 }, log);
    await waitFor(() => sup.state === 'silent', 'silent at start');
    // The watchdog closed the port: socat read EOF on its master and ended, hanging up the PTY
    // (a port reopened meanwhile then fails as 'device disconnected (bad file descriptor)').
    await waitFor(() => inst.hasExited(), 'the instrument gone with its reader');
    await waitFor(() => sup.state === 'reconnecting', 'reconnecting');
    const lost = states.find((s) => s.state === 'reconnecting');
    expect(['UNPLUGGED', 'OPEN_FAILED', 'MISSING', 'READ_ERROR']).toContain(lost?.error?.code);
    // Several failed attempts while it is away.
    const scheduled = (): number => logLines().filter((r) => r.msg === 'reopen scheduled').length;
    const before = scheduled();
    await waitFor(() => scheduled() >= before + 3, 'three more attempts');
    expect(sup.state).toBe('reconnecting');

    // Plugged back in at the same path.
    const pty = await makePty(dev, join(dir, 'alt-host'));
    ptys.push(pty);
    await waitFor(() => sup.state === 'open', 'open after the instrument is back');
    pty.write('$PGRMZ,1234,f,3*00\r\n');
    await waitFor(() => lines.length === 1, 'a line from it');
    expect(lines).toEqual(['$PGRMZ,1234,f,3*00\r\n']);
    expect(states.map((s) => s.state)).not.toContain('missing');
  });

  it('an open that fails with an error (the path is not a serial port) is retried with backoff until a serial port is there', async () => {
    const dev = join(dir, 'gps');
    symlinkSync('/dev/null', dev);
    const { log, lines: logLines } = capturedLog();
    log.level = 'debug';
    const { sup, lines, states } = supervise(dev, {}, log);
    await waitFor(() => logLines().filter((r) => r.msg === 'reopen scheduled').length >= 4, 'four failed opens');
    expect(sup.state).toBe('reconnecting');
    expect(states[0]?.error?.code).toBe('OPEN_FAILED');
    expect(states).toHaveLength(1);

    unlinkSync(dev);
    const pty = await makePty(dev, join(dir, 'gps-host'));
    ptys.push(pty);
    await waitFor(() => sup.state === 'open', 'open once it is a serial port');
    pty.write('$GPZDA,1*00\r\n');
    await waitFor(() => lines.length === 1, 'a line');
    expect(lines).toEqual(['$GPZDA,1*00\r\n']);
  });

  it('stopped while the port is still opening: closes that port, delivers nothing from it, and lets a new open have the device', async () => {
    const p = await makePty(join(dir, 'gps'), join(dir, 'gps-host'));
    ptys.push(p);
    const device = realpathSync(p.devicePath);
    const fdsOnDevice = (): string[] =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === device;
        } catch {
          return false;
        }
      });
    const first = supervise(p.devicePath);
    // start() has begun the open; stop before it calls back.
    await first.sup.stop();
    expect(first.sup.state).toBe('closed');
    await waitFor(() => fdsOnDevice().length === 0, 'the device closed by this process', 30_000);

    // The exclusive open (TIOCEXCL) of a second supervisor succeeds only if the first let go.
    const second = supervise(p.devicePath);
    await waitFor(() => second.sup.state === 'open', 'second supervisor open', 30_000);
    p.write('$GPTXT,01,01,01,after stop*00\r\n');
    await waitFor(() => second.lines.length === 1, 'line at the second supervisor', 30_000);
    expect(first.lines).toEqual([]);
    expect(first.states.map((s) => s.state).filter((s) => s === 'open')).toEqual([]);
    await second.sup.stop();
    await waitFor(() => fdsOnDevice().length === 0, 'the device closed after the second stop', 30_000);
  });

  it('a sink that throws on a line (e.g. a raw log that cannot be written) neither ends the process nor loses the lines after it', async () => {
    const dev = join(dir, 'gps');
    const pty = await makePty(dev, join(dir, 'gps-host'));
    ptys.push(pty);
    const config = portConfigSchema.parse({ name: 'gps', path: dev, reconnectMinMs: 50, reconnectMaxMs: 200 });
    const lines: string[] = [];
    const sink = {
      line: (b: Buffer): void => {
        const text = b.toString('latin1');
        if (text.includes('BOOM')) throw Object.assign(new Error(`raw log: write failed (ENOSPC)`), { code: 'ENOSPC' });
        lines.push(text);
      },
      status: (): void => undefined,
    };
    const sup = new PortSupervisor(config, sink, silentLogger());
    sups.push(sup);
    sup.start();
    await waitFor(() => sup.state === 'open', 'open');
    // One chunk: the lines after the failing one come from the same 'data' event.
    pty.write('$GPZDA,1*00\r\n$GPTXT,BOOM*00\r\n$GPZDA,2*00\r\n');
    await waitFor(() => lines.length === 2, 'the two good lines');
    expect(lines).toEqual(['$GPZDA,1*00\r\n', '$GPZDA,2*00\r\n']);
    expect(sup.lineErrorCount).toBe(1);
    expect(sup.state).toBe('open');
    pty.write('$GPZDA,3*00\r\n');
    await waitFor(() => lines.length === 3, 'a later line');
  });
});
