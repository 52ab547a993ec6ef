// SHA-256 of camera files on worker threads. Hashing is the camera side's main cost (5 MB per
// picture); on the main thread it would also delay the settle polling and the serial side's
// event loop. Each worker streams the file through the shared incremental hasher (1 MiB reads),
// so there is one hashing implementation; with two workers two cores hash two files at once.
//
// After hashing, the worker fdatasyncs the file (best effort): its bytes reach the disk before
// its row is committed. Two reasons: a committed row (synchronous=FULL) then never outlives the
// data it describes (after a power cut, delayed allocation can leave a closed file empty), and
// the flight DB's own fsync no longer waits behind the kernel's write-back of seconds of camera
// data on the same disk (ext4 ordered mode: a journal commit writes the data allocated in it).
// The sync runs on the thread pool while the worker hashes the next file (a blocking sync here
// made the full-speed bench disk-bound: ratio ~1.4 -> ~1.7). Measured on the camera bench: close ->
// committed row p99 at 100 files/s 387-686 -> 195-221 ms, at 50 files/s 313-572 -> 151-166 ms.
import { Worker } from 'node:worker_threads';
import { sha256File, type Sha256Result } from '@flysnap/shared';
import { sharedModuleUrl } from './shared-url.js';

/** Hashes one file; rejects with the fs error (its `code` kept: ENOENT, EISDIR, …). */
export type HashFile = (path: string) => Promise<Sha256Result>;

// The worker imports @flysnap/shared itself (resolved here, passed in) and hashes with its
// incremental hasher. Blocking reads are right on a worker thread: measured here ~20 % faster than
// the async 1 MiB reads of sha256File (no thread-pool round trip per block).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync, fdatasync } = require('node:fs');
import(workerData.sharedUrl).then(({ createHasher, HASH_READ_BYTES }) => {
  const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
  parentPort.on('message', ({ id, path }) => {
    let fd = -1;
    try {
      fd = openSync(path, 'r');
      const hasher = createHasher();
      let n;
      while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) hasher.update(buf.subarray(0, n));
      const r = hasher.digest();
      // Durable before its row (see above), on the thread pool while this thread hashes the next
      // file. Errors are not the hash's: a file system that cannot sync a read-only descriptor
      // (some network shares) still gets its row.
      const done = fd;
      fd = -1;
      fdatasync(done, () => {
        try { closeSync(done); } catch {}
        parentPort.postMessage({ id, ok: true, sha256: r.sha256, sizeBytes: r.sizeBytes });
      });
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
  code?: string;
  message?: string;
}

interface Pending {
  resolve: (r: Sha256Result) => void;
  reject: (e: Error) => void;
}

class HashWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();

  constructor(sharedUrl: string, onDead: (w: HashWorker, e: Error) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sharedUrl } });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok && m.sha256 !== undefined && m.sizeBytes !== undefined) p.resolve({ sha256: m.sha256, sizeBytes: m.sizeBytes });
      else p.reject(Object.assign(new Error(m.message ?? 'hash failed'), { code: m.code }));
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
    return new Promise<Sha256Result>((resolve, reject) => {
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
