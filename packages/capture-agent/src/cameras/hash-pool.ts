// SHA-256 of camera files on worker threads. Hashing is the camera side's main cost (5 MB per
// picture); on the main thread it would also delay the settle polling and the serial side's
// event loop. Each worker streams the file through the shared incremental hasher (256 KiB reads),
// so there is one hashing implementation; with two workers two cores hash two files at once.
//
// After hashing, each file is fdatasync'ed (best effort), one at a time per worker, on the thread
// pool. Why sync camera files at all: the flight DB's own fsync (synchronous=FULL) otherwise waits
// behind the kernel's write-back of seconds of camera data on the same disk (ext4 ordered mode):
// close -> committed row p99 at 100 files/s was 387-686 ms without it, 195-221 ms with it.
//
// When the worker has no sync pending, the file's reply waits for its own sync: its row is then
// committed after its bytes are on disk, and the DB's commit does not meet a file's write-back (the
// paced benchmark's p99 stays < 300 ms; replying first gave 360-400 ms in 3 runs of 10). When syncs
// are already queued (a burst faster than the disk), the reply goes at once and the sync joins the
// queue: waiting would make every row of the burst trail by the disk's whole backlog (1.2-1.6 s at
// full speed on this VM's 1.0 GB/s disk, slower than hashing). Such a row may precede its bytes
// to the disk; after a power cut the file is then not silent either: the rescan after restart
// reports it changed or gone, and ingest verifies every hash. One sync in flight per worker leaves
// two of libuv's four pool threads to the main thread's stat()s.
import { Worker } from 'node:worker_threads';
import { sha256File, type Sha256Result } from '@flysnap/shared';
import { EXIF_HEAD_BYTES } from './capture-time.js';
import { sharedModuleUrl } from './shared-url.js';

/**
 * The hash workers' nice value (their own threads only; the main thread, with the serial ports,
 * keeps its priority). When the CPU is short, the cameras writing the pictures come first: hashing
 * can catch up after a burst, a camera slowed down cannot. At full speed on the 2-core VM (3 runs
 * each) the simulator's writer took 2.95-4.70 s instead of 4.68-5.91 s beside the agent, and the
 * last row came earlier too (4.2-5.1 s instead of 4.8-6.0 s). Paced, the CPU is not short and
 * nothing changes. Where the kernel groups processes by session (sched_autogroup_enabled; a systemd
 * service is its own session), nice ranks threads within the agent's group only, and the group as
 * a whole shares the CPU fairly with a camera daemon's group; the bench's writer is its child, in
 * the same group. Linux only: setpriority() on thread id 0 changes the calling thread; elsewhere it
 * would lower the whole process, so it is not called there.
 */
export const HASH_WORKER_NICE = 10;

/** A file's hash and size, and (from the pool's workers) its first bytes as they were hashed. */
export interface HashedFile extends Sha256Result {
  /**
   * The leading bytes of what was hashed that usually hold its capture time: for a JPEG everything
   * before its scan (APPn segments: EXIF, XMP) and the next segment's first 4 bytes, else the first
   * EXIF_HEAD_BYTES; never more than the file. The capture time is then read from the very bytes
   * whose hash is recorded, without another open/read on the main thread; when they hold no time
   * (an EXIF block past 64 KiB, a TIFF-based raw whose Exif IFD lies further in), from the file.
   */
  head?: Buffer;
  /**
   * A stat of the path taken by the pool's worker once it is done with the file (after the last
   * read, or after its sync when the reply waited for that): what the recorder compares with the
   * settled size and mtime to know the file did not change meanwhile. Without it the recorder
   * stats the file itself.
   */
  after?: { sizeBytes: number; mtimeMs: number };
}

/** Hashes one file; rejects with the fs error (its `code` kept: ENOENT, EISDIR, …). */
export type HashFile = (path: string) => Promise<HashedFile>;

// The worker imports @flysnap/shared itself (resolved here, passed in) and hashes with its
// incremental hasher. Blocking reads are right on a worker thread: measured here ~20 % faster than
// the async reads of sha256File (no thread-pool round trip per block).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync, statSync, open, fdatasync, close } = require('node:fs');
// This thread only (Linux: setpriority on the calling thread's id); best effort.
if (process.platform === 'linux') try { require('node:os').setPriority(0, workerData.nice); } catch {}
// Files hashed and not yet synced (paths: the sync reopens them, so no descriptor is held while the
// queue waits), synced one at a time; a job with a reply posts it once its sync is done.
const toSync = [];
let isSyncing = false;
// A stat of the path as the reply goes: what the recorder compares with the settled size and mtime
// (did the file change while hashed, and synced when the reply waited for that). By path, as the
// recorder's own stat was; here, not on the main thread. Throws as statSync does.
function statAfter(path) {
  const st = statSync(path);
  return { sizeBytes: st.size, mtimeMs: st.mtimeMs };
}
function syncNext() {
  if (isSyncing) return;
  const job = toSync.shift();
  if (job === undefined) return;
  isSyncing = true;
  const done = () => {
    isSyncing = false;
    if (job.reply) {
      // Gone or unreadable now: no stat, and the recorder's own finds out (ENOENT: vanished).
      try {
        job.reply.after = statAfter(job.path);
      } catch {}
      parentPort.postMessage(job.reply);
    }
    syncNext();
  };
  // Errors are not the hash's: a file gone meanwhile, or a file system that cannot sync a
  // read-only descriptor (some network shares), changes nothing for its row.
  open(job.path, 'r', (err, fd) => {
    if (err) return done();
    fdatasync(fd, () => close(fd, done));
  });
}
// How much of the first read the capture time needs: for a JPEG, up to the start of its scan
// (SOS): the APPn segments (EXIF and XMP are APP1) and whatever comes before or between them (COM,
// tables), at most headBytes; other formats headBytes. Keeping only that (a few kB instead of
// 64 KiB per file) keeps the copies' memory churn low. The reader falls back to the file when
// these bytes hold no time (see record.ts).
function headLength(b, n) {
  const max = Math.min(n, workerData.headBytes);
  if (n < 4 || b[0] !== 0xff || b[1] !== 0xd8) return max;
  let at = 2;
  while (at + 4 <= n && b[at] === 0xff && b[at + 1] >= 0xc0 && b[at + 1] !== 0xda && b[at + 1] !== 0xd9) at += 2 + b.readUInt16BE(at + 2);
  // exifr wants the next segment's marker and length after the last one it reads.
  return Math.min(at + 4, max);
}
import(workerData.sharedUrl).then(({ createHasher, HASH_READ_BYTES }) => {
  const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
  parentPort.on('message', ({ id, path }) => {
    let fd = -1;
    try {
      fd = openSync(path, 'r');
      const hasher = createHasher();
      let n;
      let head = null;
      while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) {
        // A copy into its own exact buffer (buf is reused; a pooled Buffer would post its whole
        // pool): HASH_READ_BYTES >= headBytes, so the first read has it all.
        if (head === null) head = new Uint8Array(buf.subarray(0, headLength(buf, n)));
        hasher.update(buf.subarray(0, n));
      }
      const r = hasher.digest();
      const reply = { id, ok: true, sha256: r.sha256, sizeBytes: r.sizeBytes, head: head ?? new Uint8Array(0) };
      if (isSyncing || toSync.length > 0) {
        // A backlog: the row does not wait for it. A file gone since it was hashed rejects the
        // hash (ENOENT), as the open would have.
        reply.after = statAfter(path);
        parentPort.postMessage(reply);
        toSync.push({ path });
      } else {
        toSync.push({ path, reply });
      }
      syncNext();
    } catch (e) {
      parentPort.postMessage({ id, ok: false, code: e && e.code, message: String(e && e.message) });
    } finally {
      if (fd >= 0) try { closeSync(fd); } catch {}
    }
  });
});
`;

interface Reply {
  id: number;
  ok: boolean;
  sha256?: string;
  sizeBytes?: number;
  head?: Uint8Array;
  after?: { sizeBytes: number; mtimeMs: number };
  code?: string;
  message?: string;
}

interface Pending {
  resolve: (r: HashedFile) => void;
  reject: (e: Error) => void;
}

class HashWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();

  constructor(sharedUrl: string, onDead: (w: HashWorker, e: Error) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sharedUrl, headBytes: EXIF_HEAD_BYTES, nice: HASH_WORKER_NICE } });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok && m.sha256 !== undefined && m.sizeBytes !== undefined) {
        p.resolve({
          sha256: m.sha256,
          sizeBytes: m.sizeBytes,
          ...(m.head ? { head: Buffer.from(m.head.buffer, m.head.byteOffset, m.head.byteLength) } : {}),
          ...(m.after ? { after: m.after } : {}),
        });
      } else {
        p.reject(Object.assign(new Error(m.message ?? 'hash failed'), { code: m.code }));
      }
    });
    this.worker.on('error', (e) => onDead(this, e));
    this.worker.on('exit', (code) => onDead(this, new Error(`hash worker exited with code ${code}`)));
  }
}

export class HashPool {
  readonly #workers: HashWorker[] = [];
  readonly #sharedUrl: string;
  #next = 0;
  #id = 0;
  #isClosed = false;

  /** `size` workers; 0 hashes on the calling thread. */
  constructor(size: number) {
    this.#sharedUrl = sharedModuleUrl();
    for (let i = 0; i < size; i++) this.#workers.push(this.#spawn());
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Hashes `path` on the least busy worker (or here when the pool is empty or closed). */
  hash: HashFile = (path) => {
    if (this.#workers.length === 0 || this.#isClosed) return sha256File(path);
    let w = this.#workers[this.#next++ % this.#workers.length]!;
    for (const c of this.#workers) if (c.pending.size < w.pending.size) w = c;
    const id = ++this.#id;
    return new Promise<HashedFile>((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      w.worker.postMessage({ id, path });
    });
  };

  async close(): Promise<void> {
    this.#isClosed = true;
    const ws = this.#workers.splice(0);
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }

  #spawn(): HashWorker {
    return new HashWorker(this.#sharedUrl, (dead, e) => {
      // A worker that died takes its requests with it: fail them (the file settles again) and
      // replace the worker, unless we are closing.
      for (const p of dead.pending.values()) p.reject(Object.assign(new Error(`hash worker died: ${e.message}`), { code: 'EWORKER' }));
      dead.pending.clear();
      const i = this.#workers.indexOf(dead);
      if (i >= 0 && !this.#isClosed) this.#workers[i] = this.#spawn();
    });
  }
}
