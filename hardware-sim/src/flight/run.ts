// `hardware-sim flight`: performs a flight plan. Creates the ports and camera folders, writes the
// truth and the agent's config, waits --start-delay, then streams the instruments, writes the
// pictures and the video, and reports what it sent.
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cameraDir } from '@flysnap/shared';
import { SimError } from '../errors.js';
import { lingerUntilRead, nowMs, playPort, sleepUntil, type PlayResult, type PortAction } from '../ports/player.js';
import { PtyPort } from '../ports/pty.js';
import { checkFaultTargets } from '../faults/spec.js';
import { imageBytes, jsonLines, VideoRecorder, writeFileAtomic, writeImage } from './files.js';
import { checkFlightOptions, cameraDevices, type FlightOptions } from './options.js';
import { buildFlightPlan, PORT_NAMES, trajectorySamples, VIDEO_CHUNK_BYTES, VIDEO_CHUNK_S, type FlightPlan, type PortPlan } from './plan.js';
import { drawSurveyPlan, Trajectory } from './trajectory.js';

export const AGENT_CONFIG_NAME = 'agent-config.json';
export const DEFAULT_START_DELAY_S = 2;
export const DEFAULT_FLIGHT_LINGER_MS = 3000;

export interface FlightRunOptions extends FlightOptions {
  /** Output folder: ports/, array/, truth/ and agent-config.json go in it (created; must not hold a flight yet). */
  outDir: string;
  /** Seconds between writing agent-config.json and the first byte, for an agent to start. Default 2. */
  startDelayS: number;
  /** UTC of the flight's first instant, µs; null = the wall clock when streaming starts. */
  startUtcUs: number | null;
  /** Hold the stream until a reader has opened every port (default false). */
  waitForReader: boolean;
  /** After the end, keep the ports this long for the reader, ms. Default 3000. */
  lingerMs: number;
  /** Aircraft name written into the agent config. Default 'SIM-1'. */
  aircraft: string;
  signal?: AbortSignal;
  /** Called when the config is written and the ports exist (before the start delay). */
  onReady?: (info: { configPath: string; ports: Array<{ name: string; path: string; devicePath: string }>; startUtcUs: number }) => void;
  /**
   * Called as things happen to the ports while the flight runs: streaming starts (every reader
   * ready, with waitForReader), a port unplugged, plugged back in (its new device). For whoever
   * watches the simulator, and for telling apart a reader's view of a fault from the fault.
   */
  onPortEvent?: (event: { kind: 'streaming' } | { kind: 'unplugged'; port: string } | { kind: 'replugged'; port: string; devicePath: string }) => void;
}

export interface FlightReport {
  outDir: string;
  configPath: string;
  startUtcUs: number;
  startUtc: string;
  isAborted: boolean;
  ports: Array<{ name: string; path: string } & PlayResult>;
  images: { written: number; halfWritten: number; bytes: number };
  video: { path: string; sizeBytes: number } | null;
  faults: number;
}

export interface AgentConfigFile {
  array: string;
  aircraft: string;
  ports: Array<{ name: string; role: string; path: string; baudRate: number }>;
  cameras: Array<{ device: string; kind: 'image' | 'video'; folder: string; extensions: string[]; clockOffsetMs?: number }>;
}

/** The capture-agent config for a flight in `outDir` (absolute paths). */
export function agentConfig(plan: FlightPlan, outDir: string, aircraft: string): AgentConfigFile {
  const array = join(outDir, 'array');
  return {
    array,
    aircraft,
    ports: plan.ports.map((p) => ({ name: p.name, role: p.name, path: join(outDir, 'ports', p.name), baudRate: p.baudRate })),
    cameras: [
      ...cameraDevices(plan.options).map((device) => {
        const offset = plan.options.cameraClockOffsetMs[device];
        return { device, kind: 'image' as const, folder: cameraDir(array, device), extensions: ['.jpg'], ...(offset ? { clockOffsetMs: offset } : {}) };
      }),
      ...(plan.video ? [{ device: plan.video.device, kind: 'video' as const, folder: cameraDir(array, plan.video.device), extensions: ['.mp4'] }] : []),
    ],
  };
}

function portActions(port: PortPlan, speed: number): PortAction[] {
  return port.actions.map((a) =>
    a.kind === 'write'
      ? { kind: 'write', atUs: Math.round((a.simS * 1_000_000) / speed), bytes: Buffer.from(a.text, 'latin1') }
      : { kind: 'unplug', atUs: Math.round((a.simS * 1_000_000) / speed), forUs: Math.round(a.forWallS * 1_000_000) },
  );
}

async function prepareOutDir(outDir: string): Promise<void> {
  try {
    await mkdir(outDir, { recursive: true });
    const entries = await readdir(outDir);
    if (entries.includes('array') || entries.includes('agent-config.json') || entries.includes('truth')) {
      throw new SimError('BAD_INPUT', `--out ${outDir} already holds a flight: give a new or empty folder`);
    }
    await mkdir(join(outDir, 'truth'));
    await mkdir(join(outDir, 'ports'));
  } catch (err) {
    if (err instanceof SimError) throw err;
    throw new SimError('OUTPUT_FAILED', `cannot prepare --out ${outDir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes truth/flight.json, truth/trajectory.jsonl, truth/triggers.jsonl, truth/faults.jsonl. */
async function writeTruth(plan: FlightPlan, outDir: string): Promise<void> {
  const truth = join(outDir, 'truth');
  const { options, constants, trajectory } = plan;
  const flight = {
    ...constants,
    startUtc: new Date(constants.startUtcUs / 1000).toISOString(),
    options: { ...options, faults: options.faults.map((f) => `${f.name}${f.param === null ? '' : `:${f.param}`}@${f.target}`) },
    surveyPlan: trajectory.params,
    planDurationS: trajectory.durationS,
    phases: trajectory.phases(),
    ports: plan.ports.map((p) => ({ name: p.name, baudRate: p.baudRate, lines: p.actions.filter((a) => a.kind === 'write').length })),
    cameras: cameraDevices(options).map((device) => ({ device, clockOffsetMs: options.cameraClockOffsetMs[device] ?? 0, utcOffset: options.cameraUtcOffset })),
    video: plan.video,
  };
  await writeFileAtomic(join(truth, 'flight.json'), `${JSON.stringify(flight, null, 2)}\n`);
  await writeFileAtomic(join(truth, 'trajectory.jsonl'), jsonLines(trajectorySamples(plan)));
  await writeFileAtomic(join(truth, 'triggers.jsonl'), jsonLines(plan.triggers));
  await writeFileAtomic(join(truth, 'faults.jsonl'), jsonLines(plan.faults));
}

export async function runFlight(o: FlightRunOptions): Promise<FlightReport> {
  const outDir = resolve(o.outDir);
  checkFlightOptions(o, new Trajectory(drawSurveyPlan(o.seed)).durationS);
  checkFaultTargets(o.faults, PORT_NAMES, cameraDevices(o));
  if (!(o.startDelayS >= 0)) throw new SimError('BAD_INPUT', `--start-delay ${o.startDelayS}: must be 0 or more seconds`);

  await prepareOutDir(outDir);
  const startUtcUs = o.startUtcUs ?? Math.ceil((Date.now() + o.startDelayS * 1000) / 1000) * 1_000_000;
  const plan = buildFlightPlan(o, startUtcUs);
  await writeTruth(plan, outDir);
  const config = agentConfig(plan, outDir, o.aircraft);
  for (const cam of config.cameras) await mkdir(cam.folder, { recursive: true });

  const ports: PtyPort[] = [];
  try {
    for (const p of config.ports) ports.push(await PtyPort.open({ path: p.path, waitForReader: o.waitForReader }));
    const configPath = join(outDir, AGENT_CONFIG_NAME);
    await writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`);
    o.onReady?.({ configPath, ports: ports.map((p, i) => ({ name: config.ports[i]?.name ?? '', path: p.path, devicePath: p.devicePath })), startUtcUs });
    ports.forEach((p, i) => {
      const port = config.ports[i]?.name ?? p.path;
      p.on('unplugged', () => o.onPortEvent?.({ kind: 'unplugged', port }));
      p.on('replugged', (devicePath) => o.onPortEvent?.({ kind: 'replugged', port, devicePath }));
    });

    // Streaming starts when the flight's UTC start comes on the wall clock (or after the delay).
    const delayMs = o.startUtcUs === null ? startUtcUs / 1000 - Date.now() : o.startDelayS * 1000;
    let startMs = nowMs() + Math.max(0, delayMs);
    if (o.waitForReader) {
      await Promise.all(ports.map((p) => p.readerReady()));
      startMs = Math.max(startMs, nowMs());
    }
    await sleepUntil(startMs, o.signal);
    if (!o.signal?.aborted) o.onPortEvent?.({ kind: 'streaming' });

    const images = { written: 0, halfWritten: 0, bytes: 0 };
    const cameraWork = (async (): Promise<void> => {
      const writes: Promise<void>[] = [];
      for (const image of plan.images) {
        await sleepUntil(startMs + (image.writeAtS * 1000) / o.speed, o.signal);
        if (o.signal?.aborted) break;
        const bytes = imageBytes(image, o.seed, o.imageBytes);
        const path = join(cameraDir(config.array, image.device), image.relPath);
        writes.push(
          writeImage(path, image, bytes).then((n) => {
            images.written += 1;
            images.bytes += n;
            if (image.cutAtFraction !== null) images.halfWritten += 1;
          }),
        );
      }
      await Promise.all(writes);
    })();

    const video = plan.video ? new VideoRecorder(join(cameraDir(config.array, plan.video.device), plan.video.relPath), o.seed) : null;
    const videoWork = (async (): Promise<void> => {
      if (!video) return;
      await video.start();
      for (let s = VIDEO_CHUNK_S; s <= o.durationS && !o.signal?.aborted; s += VIDEO_CHUNK_S) {
        await sleepUntil(startMs + (s * 1000) / o.speed, o.signal);
        await video.appendChunk(VIDEO_CHUNK_BYTES);
      }
      await video.stop();
    })();

    const results = await Promise.all(plan.ports.map((p, i) => playPort(ports[i] as PtyPort, portActions(p, o.speed), startMs, o.signal)));
    await Promise.all([cameraWork, videoWork]);
    if (!o.signal?.aborted) await lingerUntilRead(ports, o.lingerMs, o.signal);

    const report: FlightReport = {
      outDir,
      configPath,
      startUtcUs,
      startUtc: new Date(startUtcUs / 1000).toISOString(),
      isAborted: o.signal?.aborted ?? false,
      ports: results.map((r, i) => ({ name: config.ports[i]?.name ?? '', path: config.ports[i]?.path ?? '', ...r })),
      images,
      video: video ? { path: video.path, sizeBytes: video.sizeBytes } : null,
      faults: plan.faults.length,
    };
    await writeFileAtomic(join(outDir, 'truth', 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await Promise.all(ports.map((p) => p.close()));
  }
}
