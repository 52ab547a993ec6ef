// The agent as a process (dist/cli.js run) against real PTYs and a real array: a replayed real log
// arrives complete; unplug/replug; a silent port; kill -9 and restart. No durations asserted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPool, type AgentProcess } from '../helpers/agent.js';
import { add, addressTypeCounts, expectedFromLog, fixture, rawLogBytes, readSummary, splitLines, writeConfig } from '../helpers/flight.js';
import { makePty, waitFor, type PtyPair } from '../helpers/pty.js';

let dir: string;
let array: string;
const ptys: PtyPair[] = [];
const agents = new AgentPool();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-run-'));
  array = join(dir, 'array');
});
afterEach(async () => {
  await agents.killAll();
  for (const p of ptys.splice(0)) await p.unplug().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function pty(name: string): Promise<PtyPair> {
  const p = await makePty(join(dir, `${name}-dev`), join(dir, `${name}-host`));
  ptys.push(p);
  return p;
}

const isPortState = (port: string, state: string) => (r: { msg: string; [k: string]: unknown }) => r['port'] === port && r.msg === `port ${state}`;

async function stopAgent(a: AgentProcess): Promise<void> {
  a.child.kill('SIGTERM');
  const { code } = await a.exited;
  expect(code, a.stderr()).toBe(0);
}

function linesReceived(port: string): number {
  try {
    return readSummary(array).ports.find((p) => p.name === port)?.linesReceived ?? 0;
  } catch {
    return 0;
  }
}

describe('capture-agent run', () => {
  it('captures three real logs completely: every line in the raw log, every valid sentence a sample, every invalid one counted', async () => {
    const logs = { gps: fixture('et-332.log'), compass: fixture('hemi.log'), altimeter: fixture('foretrex-201.log') };
    const ports = await Promise.all((['gps', 'compass', 'altimeter'] as const).map((n) => pty(n)));
    const config = writeConfig(dir, array, [
      { name: 'gps', role: 'gps', path: ports[0]!.devicePath },
      { name: 'compass', role: 'compass', path: ports[1]!.devicePath },
      { name: 'altimeter', role: 'altimeter', path: ports[2]!.devicePath, baudRate: 9600 },
    ]);
    const a = agents.run(config);
    for (const n of ['gps', 'compass', 'altimeter']) await a.waitForLog(isPortState(n, 'open'), `${n} open`);
    ports[0]!.write(logs.gps);
    ports[1]!.write(logs.compass);
    ports[2]!.write(logs.altimeter);
    for (const [n, bytes] of Object.entries(logs)) {
      const lines = splitLines(bytes).length;
      await waitFor(() => linesReceived(n) === lines, `${n}: ${lines} lines in the DB`);
    }
    await stopAgent(a);

    const s = readSummary(array);
    expect(s.integrity).toBe('ok');
    // The raw log of each port holds exactly the bytes sent.
    for (const [n, bytes] of Object.entries(logs)) {
      const raw = rawLogBytes(join(array, 'serial', `${n}.log`));
      expect(raw.bytes.equals(bytes), `${n}.log equals what was sent`).toBe(true);
      expect(raw.headers).toBe(1);
    }
    // Decoder oracle over the same bytes: per type, per reason, per sample kind.
    const valid: Record<string, number> = {};
    const unknown: Record<string, number> = {};
    const rejected: Record<string, number> = {};
    const samples: Record<string, number> = {};
    const byAddress: Record<string, number> = {};
    for (const bytes of Object.values(logs)) {
      const e = expectedFromLog(bytes);
      add(valid, e.valid);
      add(unknown, e.unknown);
      add(rejected, e.rejected);
      add(samples, e.samplesByKind);
      add(byAddress, addressTypeCounts(bytes));
    }
    const dbValid: Record<string, number> = {};
    const dbUnknown: Record<string, number> = {};
    const dbByType: Record<string, number> = {};
    for (const r of s.sentences.rows) {
      if (r.status === 'valid') add(dbValid, { [r.sentence]: r.count });
      if (r.status === 'unknown') add(dbUnknown, { [r.sentence]: r.count });
      if (r.sentence !== '') add(dbByType, { [r.sentence]: r.count });
    }
    expect(dbValid).toEqual(valid);
    expect(dbUnknown).toEqual(unknown);
    expect(Object.fromEntries(Object.entries(s.sentences.rejectedByReason).filter(([, n]) => n > 0))).toEqual(rejected);
    expect(Object.fromEntries(Object.entries(s.samples.byKind).filter(([, n]) => n > 0))).toEqual(samples);
    // Independently of the decoder: every line with a readable address is counted under its type.
    for (const [type, n] of Object.entries(byAddress)) expect(dbByType[type] ?? 0, type).toBeGreaterThanOrEqual(n - (rejected['fused'] ?? 0));
    expect(s.sentences.byStatus.valid + s.sentences.byStatus.unknown + s.sentences.byStatus.rejected).toBe(
      Object.values(logs).reduce((n, b) => n + splitLines(b).length, 0),
    );
    expect(s.ports.map((p) => [p.name, p.status])).toEqual([['altimeter', 'closed'], ['compass', 'closed'], ['gps', 'closed']]);
    expect(s.flight?.endedTUs).not.toBeNull();
  });

  it('reconnects after unplug/replug by itself, records the gap, loses nothing sent while up; detects a silent port', async () => {
    const lines = splitLines(fixture('et-332.log'));
    const half = Math.floor(lines.length / 2);
    let gps = await pty('gps');
    const quiet = await pty('quiet');
    const config = writeConfig(dir, array, [
      { name: 'gps', role: 'gps', path: gps.devicePath, reconnectMinMs: 50, reconnectMaxMs: 200 },
      { name: 'quiet', role: 'compass', path: quiet.devicePath, watchdogMs: 500 },
    ]);
    const a = agents.run(config);
    await a.waitForLog(isPortState('gps', 'open'), 'gps open');
    gps.write(Buffer.concat(lines.slice(0, half)));
    await waitFor(() => linesReceived('gps') === half, 'first half in the DB');

    await gps.unplug();
    await a.waitForLog(isPortState('gps', 'reconnecting'), 'gps reconnecting');
    gps = await makePty(gps.devicePath, join(dir, 'gps-host'));
    ptys.push(gps);
    await waitFor(() => a.records.filter(isPortState('gps', 'open')).length === 2, 'gps open again');
    gps.write(Buffer.concat(lines.slice(half)));
    await waitFor(() => linesReceived('gps') === lines.length, 'all lines in the DB');
    await a.waitForLog(isPortState('quiet', 'silent'), 'quiet port silent');
    await stopAgent(a);

    const raw = rawLogBytes(join(array, 'serial', 'gps.log'));
    expect(raw.bytes.equals(fixture('et-332.log'))).toBe(true);
    const s = readSummary(array);
    const codes = s.events_.filter((e) => e.source === 'port:gps').map((e) => e.code);
    expect(codes).toEqual(expect.arrayContaining(['port-open', 'port-lost', 'port-reconnected', 'port-closed']));
    const gap = s.events_.find((e) => e.code === 'port-reconnected');
    expect((gap?.data as { gapMs: number }).gapMs).toBeGreaterThanOrEqual(0);
    const silent = s.events_.find((e) => e.source === 'port:quiet' && e.code === 'port-silent');
    expect((silent?.data as { code: string }).code).toBe('SILENT');
  });

  it('after kill -9 a restart continues the same flight; the DB is intact and nothing flushed before the kill is lost', async () => {
    const lines = splitLines(fixture('hemi.log'));
    const gps = await pty('gps');
    const config = writeConfig(dir, array, [{ name: 'gps', role: 'gps', path: gps.devicePath }], { rawFlushMs: 100, dbFlushMs: 100 });
    const a = agents.run(config);
    await a.waitForLog(isPortState('gps', 'open'), 'gps open');
    const first = readSummary(array).flight!;
    // Keep sending while the agent is killed: some lines are in flight at the kill.
    let sent = 0;
    const sendSome = (n: number): void => {
      gps.write(Buffer.concat(lines.slice(sent, sent + n)));
      sent += n;
    };
    sendSome(300);
    await waitFor(() => linesReceived('gps') >= 300, 'a first batch committed');
    sendSome(100);
    const rawBefore = readFileSync(join(array, 'serial', 'gps.log'));
    const samplesBefore = readSummary(array).samples.total;
    a.child.kill('SIGKILL');
    await a.exited;

    const b = agents.run(config);
    await b.waitForLog((r) => r.msg.startsWith('took over a stale lock'), 'stale lock warning');
    await b.waitForLog(isPortState('gps', 'open'), 'gps open after restart');
    sendSome(lines.length - sent);
    await waitFor(() => readSummary(array).events_.some((e) => e.code === 'agent-restart'), 'restart event');
    const tail = Buffer.concat(lines.slice(-5));
    await waitFor(() => {
      const raw = rawLogBytes(join(array, 'serial', 'gps.log')).bytes;
      return raw.subarray(raw.length - tail.length).equals(tail);
    }, 'the last lines in the raw log');
    await stopAgent(b);

    const s = readSummary(array);
    expect(s.integrity).toBe('ok');
    expect(s.flight?.id).toBe(first.id);
    const rawAfter = readFileSync(join(array, 'serial', 'gps.log'));
    expect(rawAfter.subarray(0, rawBefore.length).equals(rawBefore)).toBe(true);
    expect(s.samples.total).toBeGreaterThanOrEqual(samplesBefore);
    expect(rawLogBytes(join(array, 'serial', 'gps.log')).headers).toBe(2);
  });
});
