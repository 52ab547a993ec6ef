// The supervisor against real pseudo-terminals (socat): framing, unplug/replug, missing port,
// watchdog. Waits on conditions, never on durations.
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { portConfigSchema } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import { PortSupervisor, type PortStatusChange } from '../../src/serial/supervisor.js';
import { makePty, waitFor, type PtyPair } from '../helpers/pty.js';

let dir: string;
const ptys: PtyPair[] = [];
const sups: PortSupervisor[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sup-'));
});
afterEach(async () => {
  for (const s of sups.splice(0)) await s.stop();
  for (const p of ptys.splice(0)) await p.unplug().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function supervise(path: string, extra: Record<string, unknown> = {}): { sup: PortSupervisor; lines: string[]; states: PortStatusChange[] } {
  const config = portConfigSchema.parse({ name: 'gps', path, reconnectMinMs: 50, reconnectMaxMs: 200, ...extra });
  const lines: string[] = [];
  const states: PortStatusChange[] = [];
  const sup = new PortSupervisor(config, { line: (b) => lines.push(b.toString('latin1')), status: (s) => states.push(s) }, silentLogger());
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

  it('keeps a silent port open after one reopen, so a line sent much later arrives at the first try', async () => {
    const dev = join(dir, 'alt');
    const pty = await makePty(dev, join(dir, 'alt-host'));
    ptys.push(pty);
    const { sup, lines, states } = supervise(dev, { watchdogMs: 150 });
    await waitFor(() => sup.state === 'silent', 'silent');
    // Several watchdog periods of silence (waiting, not measuring).
    await new Promise((r) => setTimeout(r, 1000));
    expect(states.filter((s) => s.state === 'silent')).toHaveLength(1);
    pty.write('$PGRMZ,1234,f,3*00\r\n');
    await waitFor(() => lines.length === 1, 'the one line');
    await waitFor(() => sup.state === 'open', 'open again');
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
