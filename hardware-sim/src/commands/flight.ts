// `hardware-sim flight`: parses the options and calls runFlight.
import { Command } from 'commander';
import { SimError } from '../errors.js';
import { faultHelp, parseFaultSpec } from '../faults/spec.js';
import { DEFAULT_FLIGHT_OPTIONS, GPS_RATES_HZ } from '../flight/options.js';
import { AGENT_CONFIG_NAME, DEFAULT_FLIGHT_LINGER_MS, DEFAULT_START_DELAY_S, runFlight } from '../flight/run.js';
import { formatBytes } from '@flysnap/shared';
import { collect, numberArg, parseStartUtc, stopSignal } from './common.js';

interface FlightCliOptions {
  out: string;
  duration: number;
  from: number;
  speed: number;
  cameras: number;
  seed: number;
  gpsHz: number;
  compassHz: number;
  altimeterHz: number;
  compass: string;
  cameraInterval: number;
  imageBytes: number;
  cameraClockOffset: string[];
  cameraUtcOffset: string;
  video: boolean;
  fault: string[];
  startDelay: number;
  startUtc?: string;
  waitReader?: boolean;
  linger: number;
  aircraft: string;
  json?: boolean;
}

function parseOffsets(specs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z0-9_.-]+)=(-?\d+(?:\.\d+)?)$/.exec(spec);
    if (!m?.[1]) throw new SimError('BAD_INPUT', `--camera-clock-offset ${spec}: expected DEVICE=MS, e.g. cam2=-350`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

const d = DEFAULT_FLIGHT_OPTIONS;

export function flightCommand(): Command {
  return new Command('flight')
    .summary('fly a synthetic survey flight with known ground truth')
    .description(
      `Flies a survey pattern drawn from --seed (take-off roll, climb, parallel survey lines joined by constant-rate turns, descent, landing roll; --from/--duration choose the window) and streams it as the aircraft's instruments would, with the true state known exactly at every instant.`,
    )
    .requiredOption('--out <DIR>', 'output folder')
    .option('--duration <S>', 'seconds of flight to fly', numberArg('must be a number > 0', (n) => n > 0), d.durationS)
    .option('--from <S>', 'start the window this many seconds into the flight plan', numberArg('must be a number >= 0', (n) => n >= 0), d.fromS)
    .option('--speed <N>', 'flight seconds per wall second', numberArg('must be a number > 0', (n) => n > 0), d.speed)
    .option('--cameras <N>', 'image cameras (cam1 … camN)', numberArg('must be an integer 0-16', (n) => Number.isInteger(n)), d.cameraCount)
    .option('--seed <N>', 'seed of every random choice', numberArg('must be an integer', (n) => Number.isInteger(n)), d.seed)
    .option('--gps-hz <N>', `GPS epochs per second (${GPS_RATES_HZ.join(', ')})`, numberArg('must be a number'), d.gpsHz)
    .option('--compass-hz <N>', 'compass sentences per second (10-20)', numberArg('must be a number'), d.compassHz)
    .option('--altimeter-hz <N>', 'PGRMZ sentences per second (1-2)', numberArg('must be a number'), d.altimeterHz)
    .option('--compass <hdt|hdg>', 'compass sentence', d.compassSentence)
    .option('--camera-interval <S>', 'flight seconds between two pictures of one camera', numberArg('must be a number'), d.cameraIntervalS)
    .option('--image-bytes <N>', 'approximate size of each picture, bytes', numberArg('must be a number'), d.imageBytes)
    .option('--camera-clock-offset <DEVICE=MS>', 'camera clock minus GPS time, ms (repeatable)', collect, [])
    .option('--camera-utc-offset <±HH:MM>', 'time zone the cameras show in EXIF', d.cameraUtcOffset)
    .option('--no-video', 'no video camera')
    .option('--fault <NAME[:PARAM][@TARGET]>', 'inject a fault (repeatable, see the list below)', collect, [])
    .option('--start-delay <S>', 'seconds between writing the config and the first byte', numberArg('must be a number >= 0', (n) => n >= 0), DEFAULT_START_DELAY_S)
    .option('--start-utc <ISO>', 'UTC of the first instant (default: the wall clock when streaming starts)')
    .option('--wait-reader', 'also wait until a reader has opened every port before streaming; data goes into a port only while a reader has it open (from 250 ms after each open), and what a reader had not read when it closed the port goes to its next reader: nothing is lost to a reopen (without it, what nobody reads is dropped, as on a real wire)')
    .option('--linger <MS>', 'ms to keep the ports after the last byte reached the PTY', numberArg('must be a number >= 0', (n) => n >= 0), DEFAULT_FLIGHT_LINGER_MS)
    .option('--aircraft <NAME>', 'aircraft name in the agent config', 'SIM-1')
    .option('--json', 'print the report as JSON')
    // The file list goes after the options: commander re-wraps a description, not help text.
    .addHelpText(
      'after',
      `
${`Writes into --out DIR (which must be new or empty):
  DIR/${AGENT_CONFIG_NAME}   capture-agent config: array, ports, camera folders (written once the
                          ports exist; streaming starts --start-delay s later)
  DIR/ports/gps            GPS: RMC GGA GSA VTG ZDA at --gps-hz (ddmm.mmmmm, 0.1 kn, 0.1 m)  38400 Bd
  DIR/ports/compass        compass: HDT (or HDG with deviation/variation) at --compass-hz     38400 Bd
  DIR/ports/altimeter      altimeter: $PGRMZ in feet, pressure altitude = altitude + offset    9600 Bd
  DIR/array/cameras/camN/IMG_0001.jpg …  one picture per camera every --camera-interval s
                          (staggered), written in chunks over tens of ms; EXIF DateTimeOriginal,
                          SubSecTimeOriginal, OffsetTimeOriginal from the camera clock (GPS time
                          + --camera-clock-offset)
  DIR/array/cameras/video1/VID_0001.mp4  a video growing all flight, finished at the end
  DIR/truth/flight.json      seed, start UTC, options, survey plan, instrument constants
                             (pressureAltitudeOffsetM, magneticVariationDeg, compassDeviationDeg, …)
  DIR/truth/trajectory.jsonl the true state every 0.1 s: {tUs, latDeg, lonDeg, altitudeM,
                             pressureAltitudeM, headingDeg, trackDeg, speedMps, climbMps, phase}
  DIR/truth/triggers.jsonl   one line per picture: {device, relPath, file, tUs (true shutter UTC),
                             cameraClockUs, clockOffsetMs, exif, latDeg, lonDeg, altitudeM,
                             pressureAltitudeM, headingDeg, trackDeg, speedMps, phase, isComplete}
  DIR/truth/faults.jsonl     one line per injected fault: {fault, target, param, tUs, simS, detail}
                             (line faults: detail.original and detail.sent)
  DIR/truth/report.json      at the end: what each port sent (lines, bytes, droppedBytes: lost
                             while unplugged or while nobody had the port open), files
All times are µs since the epoch, UTC. Flight time runs --speed times faster than the wall clock:
use --speed 1 when an agent records the flight, since at N× the GPS time runs N× faster than the
capture machine's clock, which no real receiver does (the flight clock cannot fit it).

Faults (--fault NAME[:PARAM][@TARGET], repeatable; reproducible from --seed):
${faultHelp()}`}

Example (a 2-minute survey window, a bad-checksum burst and an unplugged GPS, recorded by the agent):
  hardware-sim flight --out /tmp/flight1 --from 300 --duration 120 --cameras 2 \\
      --fault bad-checksum:5 --fault unplug:2@gps &
  sleep 1; capture-agent run --config /tmp/flight1/${AGENT_CONFIG_NAME}`,
    )
    .action(async (o: FlightCliOptions) => {
      if (o.compass !== 'hdt' && o.compass !== 'hdg') throw new SimError('BAD_INPUT', `--compass ${o.compass}: must be hdt or hdg`);
      const signal = stopSignal();
      const report = await runFlight({
        outDir: o.out,
        durationS: o.duration,
        fromS: o.from,
        speed: o.speed,
        cameraCount: o.cameras,
        seed: o.seed,
        gpsHz: o.gpsHz,
        compassHz: o.compassHz,
        altimeterHz: o.altimeterHz,
        compassSentence: o.compass,
        cameraIntervalS: o.cameraInterval,
        imageBytes: o.imageBytes,
        cameraClockOffsetMs: parseOffsets(o.cameraClockOffset),
        cameraUtcOffset: o.cameraUtcOffset,
        hasVideo: o.video,
        faults: o.fault.map(parseFaultSpec),
        startDelayS: o.startDelay,
        startUtcUs: parseStartUtc(o.startUtc),
        waitForReader: o.waitReader ?? false,
        lingerMs: o.linger,
        aircraft: o.aircraft,
        signal,
        onReady: (info) => {
          process.stderr.write(`config ${info.configPath}\n`);
          for (const p of info.ports) process.stderr.write(`port ${p.name} ${p.path} -> ${p.devicePath}\n`);
          process.stderr.write(`flight starts ${new Date(info.startUtcUs / 1000).toISOString()}\n`);
        },
        // Stamped with the wall clock: when a reader's view of a fault differs from the fault.
        onPortEvent: (e) => {
          const at = new Date().toISOString();
          if (e.kind === 'streaming') process.stderr.write(`${at} streaming\n`);
          else if (e.kind === 'unplugged') process.stderr.write(`${at} port ${e.port} unplugged\n`);
          else process.stderr.write(`${at} port ${e.port} plugged back in -> ${e.devicePath}\n`);
        },
      });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      for (const p of report.ports) {
        process.stdout.write(`${p.name} ${p.path}: ${p.lines} lines, ${p.bytes} bytes${p.droppedBytes ? `, ${p.droppedBytes} bytes lost (unplugged, or nobody reading)` : ''}\n`);
      }
      process.stdout.write(`images: ${report.images.written} (${formatBytes(report.images.bytes)}), ${report.images.halfWritten} half-written\n`);
      if (report.video) process.stdout.write(`video: ${report.video.path} (${formatBytes(report.video.sizeBytes)})\n`);
      process.stdout.write(`faults injected: ${report.faults} (see ${report.outDir}/truth/faults.jsonl)\n`);
      if (report.isAborted) process.stdout.write('stopped before the end\n');
    });
}
