// The built CLI: help, one-line errors with exit codes, replay end to end with a JSON report,
// and the ports command.
import { lstat, readFile, writeFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Collector, FIXTURES, runCleanups, startCli, tempDir, until } from '../helpers.js';

afterEach(runCleanups);

const exists = (path: string): Promise<boolean> => lstat(path).then(() => true, () => false);

describe('hardware-sim CLI', () => {
  it('answers --help with the subcommands and copy-paste examples', async () => {
    const top = startCli(['--help']);
    expect(await top.exited).toBe(0);
    expect(top.out()).toMatch(/replay[\s\S]*flight[\s\S]*ports/);
    expect(top.out()).toContain('hardware-sim replay --port /tmp/fs/gps=gps.log');
    const flight = startCli(['flight', '--help']);
    expect(await flight.exited).toBe(0);
    for (const word of ['agent-config.json', 'truth/triggers.jsonl', 'truth/faults.jsonl', 'week-rollover', 'Example']) expect(flight.out()).toContain(word);
  });

  it.each([
    [['flight', '--out', '/tmp/x', '--fault', 'gremlins'], /unknown fault/],
    [['flight', '--out', '/tmp/x', '--gps-hz', '3'], /--gps-hz 3: must be one of 1, 2, 4, 5, 10/],
    [['flight', '--out', '/tmp/x', '--speed', 'fast'], /--speed/],
    [['replay', '--port', 'nolog'], /expected PATH=LOG/],
    [['replay', '--port', '/tmp/a=b', '--fast', '--rate', '5'], /choose one of --speed, --rate and --fast/],
  ])('refuses bad input %j with one line and exit 2', async (args, message) => {
    const cli = startCli(args);
    expect(await cli.exited).toBe(2);
    expect(cli.err()).toMatch(message);
    expect(cli.err()).not.toMatch(/\n\s+at /);
  });

  it('says which log it cannot read (exit 1), with a stack only with --verbose', async () => {
    const dir = await tempDir();
    const cli = startCli(['replay', '--port', `${join(dir, 'p')}=${join(dir, 'missing.log')}`]);
    expect(await cli.exited).toBe(1);
    expect(cli.err().trim()).toBe(`hardware-sim: cannot read log ${join(dir, 'missing.log')} (ENOENT)`);
    const verbose = startCli(['replay', '--verbose', '--port', `${join(dir, 'p')}=${join(dir, 'missing.log')}`]);
    expect(await verbose.exited).toBe(1);
    expect(verbose.err()).toMatch(/\n\s+at /);
  });

  it('replay --fast into two ports delivers every byte and reports it as JSON', async () => {
    const dir = await tempDir();
    const a = join(dir, 'gps');
    const b = join(dir, 'aux');
    const logA = join(FIXTURES, 'signalk-gps.log');
    const logB = join(FIXTURES, 'ac12_binary.log');
    const cli = startCli(['replay', '--port', `${a}=${logA}`, '--port', `${b}=${logB}`, '--fast', '--wait-reader', '--linger', '300', '--json']);
    await until(async () => (await exists(a)) && (await exists(b)), 'ports');
    const [ra, rb] = await Promise.all([Collector.open(a), Collector.open(b)]);
    expect(await cli.exited, cli.err()).toBe(0);
    const [wantA, wantB] = await Promise.all([readFile(logA), readFile(logB)]);
    await Promise.all([ra.waitFor(wantA.length), rb.waitFor(wantB.length)]);
    expect(ra.bytes.equals(wantA)).toBe(true);
    expect(rb.bytes.equals(wantB)).toBe(true);
    const report = JSON.parse(cli.out());
    expect(report.ports).toMatchObject([
      { path: a, bytes: wantA.length, lines: wantA.toString('latin1').split('\n').length - (wantA.at(-1) === 0x0a ? 1 : 0), droppedBytes: 0 },
      { path: b, bytes: wantB.length, droppedBytes: 0 },
    ]);
    expect(await exists(a)).toBe(false);
  });

  it('replay --rate --loop goes on until Ctrl-C, then reports and removes its port', async () => {
    const dir = await tempDir();
    const log = join(dir, 'short.log');
    await writeFile(log, '$GPZDA,120000.00,01,06,2024,00,00*6A\r\n$HCHDT,10.0,T*2E\r\n');
    const path = join(dir, 'gps');
    const cli = startCli(['replay', '--port', `${path}=${log}`, '--rate', '200', '--loop', '--wait-reader', '--linger', '0']);
    await until(() => exists(path), 'port');
    const reader = await Collector.open(path);
    await reader.waitFor(200); // more than one pass
    cli.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(cli.out()).toMatch(/lines, \d+ bytes/);
    expect(cli.out()).toContain('stopped before the end');
    expect(await exists(path)).toBe(false);
  });

  it('ports makes a null-modem pair held until Ctrl-C', async () => {
    const dir = await tempDir();
    const agent = join(dir, 'gps');
    const cli = startCli(['ports', agent]);
    await until(() => cli.out().includes('ready'), 'ports ready');
    expect(cli.out()).toContain(`${agent} <-> ${agent}-device`);
    const reader = await Collector.open(agent);
    const device = await open(`${agent}-device`, 'w');
    await device.write('$HCHDT,10.0,T*2E\r\n');
    await reader.waitFor(18);
    expect(reader.bytes.toString()).toBe('$HCHDT,10.0,T*2E\r\n');
    await device.close();
    cli.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(await exists(agent)).toBe(false);
    expect(await exists(`${agent}-device`)).toBe(false);
  });
});
