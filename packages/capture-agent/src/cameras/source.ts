// The camera side as one object the run loop composes: per folder a watcher, one settle tracker,
// a small record queue, a periodic rescan and a periodic pose catch-up.
//
//   watcher ─┐                         ┌─ complete/incomplete ─► record (hash, time, pose, row)
//   rescan ──┴─► settle tracker (poll) ┤
//                                      └─ vanished: dropped (never recorded, nothing to lose)
//
// Exactly once: a path is either settling, being recorded, or accounted for (`known`, loaded from
// the DB at start); the DB's UNIQUE(device, rel_path, size_bytes, sha256) catches the rest.
import { EventEmitter } from 'node:events';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { FlightDbLike } from '@flysnap/shared';
import { inlineAssetWriter, workerAssetWriter, type AssetWriter } from './asset-writer.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { CAMERA_EVENT_CODES, cameraEventSource, loadKnownFiles } from './asset-store.js';
import type { CompletenessPolicy } from './completeness.js';
import type { MonoToUtc } from './flight-clock-source.js';
import { catchUpPoses, type CatchUpResult } from './pose-catchup.js';
import type { PoseSource } from './pose-source.js';
import { recordFile, type RecordOutcome } from './record.js';
import { listCameraFolder, reconcile, toRelPath, unstatedFile, type KnownFile } from './rescan.js';
import { SettleTracker, type FileStat, type SettledFile } from './settle.js';
import { monoNowUs } from '../serial/monoClock.js';
import { HashPool } from './hash-pool.js';
import { canSeeEveryUser, hiddenProcesses, ownCapEff, ownProcListingMayHide } from './open-writers.js';
import { FolderWatcher } from './watcher.js';
import { isFlightDbLockError } from '../store/flightStore.js';

/** One camera as the camera side needs it (the agent config's `cameras[]` entries fit). */
export interface CameraSettings {
  device: string;
  kind: 'image' | 'video';
  /** Folder the camera writes into. */
  folder: string;
  /** Lower-case extensions with the dot. */
  extensions: readonly string[];
  /** Camera clock minus UTC, ms, applied to EXIF times. Default 0. */
  clockOffsetMs?: number;
  /** Shutter-to-file latency, ms, applied to flight-clock times. Default 0. */
  latencyMs?: number;
  /** Size-stable time when closing cannot be proven, ms. Default 1000 (image) / 5000 (video). */
  settleMs?: number;
  /** Size-stable time when closing is proven and the ending valid, ms. Default 100. */
  closedSettleMs?: number;
  /** Unchanged this long but never provably complete → recorded as incomplete, ms. Default 30000 (image) / 120000 (video). */
  incompleteAfterMs?: number;
}

export interface CameraSourceOptions {
  db: FlightDbLike;
  /**
   * The flight DB's file: rows are then written by a worker thread with its own connection (a
   * commit's fsync never blocks this thread). Without it, writes go through `db` here.
   */
  dbPath?: string;
  cameras: readonly CameraSettings[];
  clock: MonoToUtc;
  pose: PoseSource;
  /** Full rescan of every folder against the DB, ms. Default 10000. */
  rescanMs?: number;
  /** Pose/time catch-up pass, ms. Default 2000. */
  catchUpMs?: number;
  /** Settle polling period, ms. Default 50. */
  pollMs?: number;
  /** Files recorded at once. Default 64: the hash pool queues the hashing; the rest is mostly waiting (EXIF read, group commit). */
  recordConcurrency?: number;
  /** Hash worker threads. Default 2 (this machine class has 2 cores); 0 hashes on the main thread. */
  hashWorkers?: number;
  logger?: Logger;
  /** Where the process table is read (tests give a fake one). Default /proc. */
  procRoot?: string;
  /**
   * Names (as /proc/PID/comm shows them) of processes that never write camera files, for when the
   * agent cannot see their open files (the config's `notCameraWriters`). Default none.
   */
  notCameraWriters?: readonly string[];
}

export interface AssetRecorded {
  id: number;
  device: string;
  relPath: string;
  status: 'complete' | 'incomplete';
  sizeBytes: number;
  sha256: string;
  captureTUs: number | null;
}

export interface CameraEvent {
  device: string;
  relPath: string;
  code: (typeof CAMERA_EVENT_CODES)[keyof typeof CAMERA_EVENT_CODES];
}

export interface CameraSourceEvents {
  asset: [asset: AssetRecorded];
  event: [event: CameraEvent];
  error: [error: Error];
}

const DEFAULTS = {
  image: { settleMs: 1000, incompleteAfterMs: 30_000 },
  video: { settleMs: 5000, incompleteAfterMs: 120_000 },
  closedSettleMs: 100,
  rescanMs: 10_000,
  catchUpMs: 2000,
  recordConcurrency: 64,
  hashWorkers: 2,
} as const;

interface Camera {
  settings: Required<CameraSettings>;
  /** Real (symlink-free) folder path: /proc shows real paths. */
  folder: string;
  watcher: FolderWatcher;
  known: Map<string, KnownFile>;
  /** Relative paths being recorded right now. */
  recording: Set<string>;
  /** Relative paths that changed while being recorded: settle again afterwards. */
  dirty: Set<string>;
}

export class CameraSource extends EventEmitter<CameraSourceEvents> {
  readonly #opts: CameraSourceOptions;
  readonly #log: Logger;
  readonly #tracker: SettleTracker;
  readonly #cameras = new Map<string, Camera>();
  readonly #queue: SettledFile[] = [];
  #active = 0;
  readonly #idleWaiters: (() => void)[] = [];
  #rescanTimer: NodeJS.Timeout | null = null;
  #catchUpTimer: NodeJS.Timeout | null = null;
  #isRunning = false;
  /** Rescan passes started (see unstatedFile: the first stats every file). */
  #rescanPasses = 0;
  #rescanning: Promise<void> | null = null;
  #hashPool: HashPool | null = null;
  #writer: AssetWriter | null = null;

  constructor(options: CameraSourceOptions) {
    super();
    this.#opts = options;
    this.#log = options.logger ?? silentLogger();
    this.#tracker = new SettleTracker({
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }),
      ...(options.notCameraWriters === undefined ? {} : { notWriters: options.notCameraWriters }),
    });
    this.#tracker.on('settled', (f) => this.#enqueue(f));
  }

  /** Loads what the DB holds, starts the watchers, then reconciles every folder once. */
  async start(): Promise<void> {
    if (this.#isRunning) return;
    this.#isRunning = true;
    this.#hashPool = new HashPool(this.#opts.hashWorkers ?? DEFAULTS.hashWorkers);
    this.#writer = this.#opts.dbPath === undefined ? inlineAssetWriter(this.#opts.db) : workerAssetWriter(this.#opts.dbPath);
    for (const c of this.#opts.cameras) {
      const d = DEFAULTS[c.kind];
      const settings: Required<CameraSettings> = {
        device: c.device,
        kind: c.kind,
        folder: c.folder,
        extensions: c.extensions.map((e) => e.toLowerCase()),
        clockOffsetMs: c.clockOffsetMs ?? 0,
        latencyMs: c.latencyMs ?? 0,
        settleMs: c.settleMs ?? d.settleMs,
        closedSettleMs: c.closedSettleMs ?? DEFAULTS.closedSettleMs,
        incompleteAfterMs: c.incompleteAfterMs ?? d.incompleteAfterMs,
      };
      const wanted = isAbsolute(c.folder) ? c.folder : resolve(c.folder);
      await mkdir(wanted, { recursive: true });
      const folder = await realpath(wanted);
      const watcher = new FolderWatcher({ folder, extensions: settings.extensions });
      const cam: Camera = { settings, folder, watcher, known: loadKnownFiles(this.#opts.db, c.device), recording: new Set(), dirty: new Set() };
      this.#cameras.set(c.device, cam);
      const policy: CompletenessPolicy = {
        settleMs: settings.settleMs,
        closedSettleMs: settings.closedSettleMs,
        incompleteAfterMs: settings.incompleteAfterMs,
      };
      this.#tracker.setPolicy(c.device, policy);
      watcher.on('candidate', (p, stats) => this.#candidate(cam, p, stats));
      watcher.on('removed', (p) => this.#tracker.forget(p));
      watcher.on('error', (e) => this.#log.warn({ ns: `capture:cameras:${c.device}`, err: e.message }, 'watcher error'));
      await watcher.start();
      this.#log.info({ ns: `capture:cameras:${c.device}`, folder, known: cam.known.size }, 'watching camera folder');
    }
    this.#tracker.start();
    this.#warnIfWritersHidden();
    await this.rescan();
    const rescanMs = this.#opts.rescanMs ?? DEFAULTS.rescanMs;
    this.#rescanTimer = setInterval(() => void this.rescan().catch((e: unknown) => this.#fail(e)), rescanMs);
    const catchUpMs = this.#opts.catchUpMs ?? DEFAULTS.catchUpMs;
    this.#catchUpTimer = setInterval(() => {
      try {
        this.catchUp();
      } catch (e) {
        // Another connection holds the write lock (the agent's connection waits only a few ms for
        // it, so as not to block this thread): routine, and the next pass does the same work.
        if (isFlightDbLockError(e)) this.#log.debug({ ns: 'capture:cameras', err: (e as Error).message }, 'pose catch-up deferred: flight DB busy');
        else this.#fail(e);
      }
    }, catchUpMs);
  }

  /** Stops watching; waits for the files being recorded to be written (settling ones are left). */
  async stop(): Promise<void> {
    if (!this.#isRunning) return;
    this.#isRunning = false;
    if (this.#rescanTimer) clearInterval(this.#rescanTimer);
    if (this.#catchUpTimer) clearInterval(this.#catchUpTimer);
    this.#tracker.stop();
    this.#queue.length = 0;
    await Promise.all([...this.#cameras.values()].map((c) => c.watcher.close()));
    await this.#rescanning;
    await this.idle();
    await this.#hashPool?.close();
    this.#hashPool = null;
    await this.#writer?.close();
    this.#writer = null;
  }

  /** Resolves when nothing is being recorded or queued (settling files may remain). */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Files settling or being recorded. */
  get pendingCount(): number {
    let recording = 0;
    for (const c of this.#cameras.values()) recording += c.recording.size;
    return this.#tracker.pendingCount + this.#queue.length + recording;
  }

  /**
   * Says once, at start, when the fast way to call a picture complete (its writer closed it, seen
   * in /proc) cannot work here, which processes stop it, and what to do about it: otherwise the
   * operator only sees every picture arrive settleMs late.
   */
  #warnIfWritersHidden(): void {
    if (!this.#tracker.isProcScanEnabled) return;
    if (ownProcListingMayHide(this.#opts.procRoot)) {
      this.#log.warn(
        { ns: 'capture:cameras', procRoot: this.#opts.procRoot ?? '/proc' },
        'the process table is mounted with hidepid=invisible (systemd: ProtectProc=invisible): processes the agent may not ' +
          'inspect are not even listed, so it can never prove a picture\'s writer has closed it, and every picture waits ' +
          'its settleMs (1 s images, 5 s videos by default). To fix, mount /proc without it for the agent (drop ProtectProc), ' +
          'or give the agent CAP_SYS_PTRACE (with CAP_DAC_READ_SEARCH, to read other users\' processes once listed), or put it ' +
          'in the group named by the mount\'s gid= option',
      );
      return;
    }
    const hidden = hiddenProcesses({
      ...(this.#opts.procRoot === undefined ? {} : { procRoot: this.#opts.procRoot }),
      notWriters: new Set(this.#opts.notCameraWriters ?? []),
    });
    if (hidden.length === 0) return;
    const named = hidden.slice(0, 5).map((p) => `${p.pid} (${p.name || '?'})`).join(', ') + (hidden.length > 5 ? ', …' : '');
    // With both capabilities the fix that helps everyone else is already in place (root has them,
    // unless a unit or container drops them): what is left is hidden whatever the agent's privileges.
    const fix = canSeeEveryUser(ownCapEff())
      ? 'The agent already may see every user\'s processes: the kernel hides these whatever its privileges (a VM\'s or ' +
        "container's supervisor, a process with capabilities the agent lacks). If they never write camera files, name them " +
        "in the config's notCameraWriters"
      : 'To fix, run the agent as root or give it CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE (systemd: CapabilityBoundingSet= ' +
        'and AmbientCapabilities= both listing CAP_DAC_READ_SEARCH CAP_SYS_PTRACE); a process that even root cannot see ' +
        "(a VM's or container's supervisor) and that never writes camera files can be named in the config's notCameraWriters";
    this.#log.warn(
      { ns: 'capture:cameras', hiddenProcesses: hidden.length, processes: hidden.slice(0, 20) },
      `cannot see which files ${hidden.length} other process(es) hold open: ${named}. A picture is called complete only ` +
        'after its size has been stable for settleMs (1 s images, 5 s videos by default), not as soon as its writer closes it. ' +
        fix,
    );
  }

  /** Lists every folder and reconciles it with what is accounted for. */
  rescan(): Promise<void> {
    this.#rescanning ??= this.#rescanOnce().finally(() => {
      this.#rescanning = null;
    });
    return this.#rescanning;
  }

  /** One pose/time catch-up pass over the DB. */
  catchUp(): CatchUpResult {
    return catchUpPoses(this.#opts.db, this.#opts.pose, this.#opts.clock, (d) => this.#cameras.get(d)?.settings.latencyMs ?? 0);
  }

  async #rescanOnce(): Promise<void> {
    // The first pass stats every file; later ones new names and one slice of the recorded files.
    const pass = this.#rescanPasses++;
    for (const cam of this.#cameras.values()) {
      // What was accounted for before the listing started: only those can be missing from it. A
      // file recorded while the listing runs (one awaited stat per file) is in `known` but may
      // not be in the listing, and is on disk.
      const knownBefore = new Map(cam.known);
      const disk = await listCameraFolder(cam.folder, cam.settings.extensions, undefined, unstatedFile(pass, cam.known));
      if (!this.#isRunning) return;
      const busy = new Set<string>(cam.recording);
      for (const f of disk) if (this.#tracker.has(this.#abs(cam, f.relPath))) busy.add(f.relPath);
      for (const q of this.#queue) if (q.device === cam.settings.device) busy.add(toRelPath(cam.folder, q.path));
      const { toExamine, missing } = reconcile(disk, cam.known, busy);
      for (const f of toExamine) this.#tracker.watch(cam.settings.device, this.#abs(cam, f.relPath));
      for (const k of missing) {
        if (knownBefore.get(k.relPath) !== k) continue; // accounted for during the listing
        // Last look before a persisted event: the file may have come back (or the listing missed it).
        if (await this.#isOnDisk(cam, k.relPath)) continue;
        if (!this.#isRunning) return;
        if (cam.known.get(k.relPath) !== k || k.isReportedMissing || cam.recording.has(k.relPath)) continue;
        await this.#writer?.writeEvent({
          tUs: 0,
          level: 'warn',
          source: cameraEventSource(cam.settings.device),
          code: CAMERA_EVENT_CODES.missing,
          message: `${cam.settings.device}/${k.relPath} was recorded but is no longer on disk`,
          data: { relPath: k.relPath, sizeBytes: k.sizeBytes, sha256: k.sha256 },
        });
        k.isReportedMissing = true;
        this.emit('event', { device: cam.settings.device, relPath: k.relPath, code: CAMERA_EVENT_CODES.missing });
      }
      if (toExamine.length > 0) {
        this.#log.debug({ ns: `capture:cameras:${cam.settings.device}`, files: toExamine.length }, 'rescan found files to examine');
      }
    }
  }

  /** False only when the file is certainly gone (ENOENT/ENOTDIR); any other failure is not proof. */
  async #isOnDisk(cam: Camera, relPath: string): Promise<boolean> {
    try {
      await stat(this.#abs(cam, relPath));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code !== 'ENOENT' && code !== 'ENOTDIR';
    }
  }

  #abs(cam: Camera, relPath: string): string {
    return `${cam.folder}/${relPath}`;
  }

  #candidate(cam: Camera, absPath: string, stats?: FileStat): void {
    const rel = toRelPath(cam.folder, absPath);
    if (cam.recording.has(rel)) {
      cam.dirty.add(rel);
      return;
    }
    this.#tracker.watch(cam.settings.device, absPath, stats);
  }

  #enqueue(f: SettledFile): void {
    const cam = this.#cameras.get(f.device);
    if (!cam || !this.#isRunning) return;
    const rel = toRelPath(cam.folder, f.path);
    const k = cam.known.get(rel);
    // A late watcher event for a file just recorded: same size, not modified since it was
    // verified. The same rule as the rescan's (rescan.ts); hashing it again would change nothing.
    if (k && !k.isReportedMissing && k.sizeBytes === f.sizeBytes && f.mtimeMs <= k.verifiedWallMs) return;
    cam.recording.add(rel);
    this.#queue.push(f);
    this.#pump();
  }

  #pump(): void {
    const limit = this.#opts.recordConcurrency ?? DEFAULTS.recordConcurrency;
    while (this.#active < limit && this.#queue.length > 0) {
      const f = this.#queue.shift();
      if (!f) break;
      this.#active++;
      void this.#record(f)
        .catch((e: unknown) => this.#fail(e))
        .finally(() => {
          this.#active--;
          this.#pump();
          if (this.#active === 0 && this.#queue.length === 0) for (const w of this.#idleWaiters.splice(0)) w();
        });
    }
  }

  async #record(f: SettledFile): Promise<void> {
    const cam = this.#cameras.get(f.device);
    if (!cam) return;
    const rel = toRelPath(cam.folder, f.path);
    const startMonoUs = monoNowUs();
    let outcome: RecordOutcome;
    try {
      outcome = await recordFile(
        {
          device: cam.settings,
          absPath: f.path,
          relPath: rel,
          sizeBytes: f.sizeBytes,
          mtimeMs: f.mtimeMs,
          appearedMonoUs: f.appearedMonoUs,
          status: f.decision.state,
          ...(f.decision.state === 'incomplete' ? { incompleteReason: f.decision.reason } : {}),
        },
        {
          db: this.#opts.db,
          clock: this.#opts.clock,
          pose: this.#opts.pose,
          known: cam.known,
          ...(this.#writer ? { writer: this.#writer } : {}),
          ...(this.#hashPool ? { hash: this.#hashPool.hash } : {}),
        },
      );
    } finally {
      cam.recording.delete(rel);
    }
    const ns = `capture:cameras:${f.device}`;
    switch (outcome.kind) {
      case 'recorded': {
        const a = outcome.asset;
        this.#log.info(
          {
            ns,
            relPath: rel,
            status: a.status,
            sizeBytes: a.sizeBytes,
            timeSource: a.timeSource,
            // Where the time went, for latency questions: settling after the last change, waiting
            // for a record slot, then hash + time + pose + commit.
            settledMs: Math.round((f.settledMonoUs - f.lastChangeMonoUs) / 1000),
            queuedMs: Math.round((startMonoUs - f.settledMonoUs) / 1000),
            recordMs: Math.round((monoNowUs() - startMonoUs) / 1000),
            decision: f.decision.reason,
          },
          'asset recorded',
        );
        this.emit('asset', {
          id: outcome.id,
          device: f.device,
          relPath: rel,
          status: a.status,
          sizeBytes: a.sizeBytes,
          sha256: a.sha256,
          captureTUs: a.captureTUs,
        });
        if (a.status === 'incomplete') this.emit('event', { device: f.device, relPath: rel, code: CAMERA_EVENT_CODES.incomplete });
        break;
      }
      case 'changed':
        this.#log.warn({ ns, relPath: rel }, 'recorded file changed afterwards');
        this.emit('event', { device: f.device, relPath: rel, code: CAMERA_EVENT_CODES.changed });
        break;
      case 'unstable':
        cam.dirty.add(rel);
        break;
      case 'duplicate':
      case 'unchanged':
      case 'vanished':
        break;
    }
    if (cam.dirty.delete(rel) && this.#isRunning) this.#tracker.watch(f.device, f.path);
  }

  #fail(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.#log.error({ ns: 'capture:cameras', err: err.message }, 'camera side error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

