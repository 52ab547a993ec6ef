// `hardware-sim replay`: parses the options and calls runReplay.
import { Command } from 'commander';
import { SimError } from '../errors.js';
import { DEFAULT_LINGER_MS, runReplay, type ReplayPortSpec } from '../replay/replay.js';
import type { Pacing } from '../replay/schedule.js';
import { MAX_GAP_US } from '../replay/schedule.js';
import { formatBytes } from '@flysnap/shared';
import { collect, numberArg, stopSignal } from './common.js';

interface ReplayCliOptions {
  port: string[];
  speed?: number;
  rate?: number;
  fast?: boolean;
  loop?: boolean;
  linger: number;
  waitReader?: boolean;
  json?: boolean;
}

function parsePortSpec(text: string): ReplayPortSpec {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new SimError('BAD_INPUT', `--port ${text}: expected PATH=LOG, e.g. /tmp/fs/gps=gps.log`);
  return { path: text.slice(0, eq), log: text.slice(eq + 1) };
}

function pacingOf(o: ReplayCliOptions): Pacing {
  const chosen = [o.speed !== undefined, o.rate !== undefined, o.fast === true].filter(Boolean).length;
  if (chosen > 1) throw new SimError('BAD_INPUT', 'choose one of --speed, --rate and --fast');
  if (o.fast) return { mode: 'fast' };
  if (o.rate !== undefined) return { mode: 'rate', hz: o.rate };
  return { mode: 'log-time', speed: o.speed ?? 1 };
}

export function replayCommand(): Command {
  return new Command('replay')
    .summary('play recorded serial logs into virtual serial ports')
    .description(
      `Plays recorded serial logs, each into its own virtual serial port (a PTY; PATH becomes a symlink
to /dev/pts/N that the agent opens like a real port). Several logs play interleaved in time order.

Logs: raw device logs (bytes exactly as the device sent them: CR LF or LF, binary junk and all,
are written byte for byte), or the capture agent's raw serial logs (first line
"#flysnap-rawlog v2 …", v1 read too): each entry's payload is written followed by LF unless the
entry says the piece had none (a line cut at the agent's maximum length, a partial line at unplug
or stop), so the port gets exactly the bytes the agent received, paced by its receive time.

Pacing (default: log times at 1×): by the NMEA times in the log (RMC, GGA, GNS, ZDA, GLL, GBS, GST,
GRS; untimed lines go with the timed line before them; a gap over ${MAX_GAP_US / 1e6} s is shortened to that, a
jump back is a splice and does not wait), or the receive times of a raw serial log; --speed N
plays N× faster; --rate HZ writes a fixed number of lines per second; --fast writes as fast as the
reader takes it (writes wait when the reader is slow: nothing is dropped).

A port nobody reads: like a real wire, what is sent while no process has the port open (none yet,
or the reader went away) is dropped (counted as droppedBytes in the report) once a few kB are
queued, so a reader that opens later gets current data (plus at most ~4 kB queued before). A reader
that has the port open but reads slowly holds the replay back instead: nothing is dropped. With
--wait-reader data is held until a reader has opened every port, then goes into a port only while
a reader has it open (from 250 ms after each open: serialport's open flushes the PTY); writes wait
while nobody has it open, and what a reader had not read when it closed the port (also what was
written in the up to 100 ms before that was noticed) is given first to the next reader: every byte
is read by a reader if one comes back before the end (what is still held then counts as
droppedBytes). Not covered: a reader that closes and reopens within 100 ms. Who has a port open is read from /proc: a reader running as
another user whose /proc we may not read looks like no reader (run both as the same user); where
there is no /proc, nothing is dropped and writes wait.

Several logs: logs on the same time base are aligned as recorded, counted from the earliest first
time among them (agent raw logs by their receive monoUs, which is one clock only within one
recording session; device logs by their NMEA UTC times of day), so a GPS log starting 2 s after a
compass log starts 2 s into the replay, and they stay aligned over --loop. Logs on different time
bases (raw logs and device logs) have no common clock: each base starts at the start of the
replay. A device log without any time (HDT or PGRMZ only) has no time of its own: it is written
from the start as fast as the reader takes it, as with --fast (replay it alone with --rate to pace
it, or replay the agent's raw log of that port, which carries receive times). --rate and --fast
ignore the times: every log starts at once.

At the end the ports stay until socat has passed every byte into the PTY, then --linger ms more for
the reader to take the last few kB (as gpsfake does), then they are removed. Ctrl-C stops early.
The report (per port: lines, bytes) goes to stdout; --json makes it machine-readable.`,
    )
    .requiredOption('--port <PATH=LOG>', 'a port to create and the log to play into it (repeatable)', collect)
    .option('--speed <N>', 'play N× faster than recorded (default 1)', numberArg('must be a number > 0', (n) => n > 0))
    .option('--rate <HZ>', 'write HZ lines per second, ignoring the times in the log', numberArg('must be a number > 0', (n) => n > 0))
    .option('--fast', 'write as fast as the reader takes it')
    .option('--loop', 'start again at the end, until Ctrl-C')
    .option('--linger <MS>', 'ms to keep the ports after the last byte reached the PTY', numberArg('must be a number >= 0', (n) => n >= 0), DEFAULT_LINGER_MS)
    .option('--wait-reader', 'hold the data back until a reader has opened every port; data goes in only while a reader has the port open, and what it had not read when it closed goes to the next reader')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Example (two logs, 10× real time, an agent or a terminal reading /tmp/fs/gps):
  hardware-sim replay --port /tmp/fs/gps=gps.log --port /tmp/fs/compass=compass.log --speed 10
  # elsewhere:  cat /tmp/fs/gps     (or: capture-agent run --config …)`,
    )
    .action(async (o: ReplayCliOptions) => {
      const signal = stopSignal();
      const report = await runReplay({
        ports: o.port.map(parsePortSpec),
        pacing: pacingOf(o),
        loop: o.loop ?? false,
        lingerMs: o.linger,
        waitForReader: o.waitReader ?? false,
        signal,
        onPortsReady: (ports) => {
          for (const p of ports) process.stderr.write(`port ${p.path} -> ${p.devicePath}\n`);
          if (o.waitReader) process.stderr.write('waiting for a reader on every port\n');
        },
      });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      for (const p of report.ports) {
        process.stdout.write(`${p.path}: ${p.lines} lines, ${p.bytes} bytes (${formatBytes(p.bytes)}) from ${p.log} [${p.format}]${p.droppedBytes ? `, ${p.droppedBytes} bytes dropped` : ''}\n`);
      }
      if (report.isAborted) process.stdout.write('stopped before the end\n');
    });
}
