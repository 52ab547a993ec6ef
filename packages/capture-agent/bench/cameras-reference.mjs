// The camera bench's reference for "hash files while the cameras write them" (not a .bench.mjs:
// run by cameras.bench.mjs in its own process). No watcher library, no settling, no DB: an fs.watch
// per camera folder, and each new file hashed 150 ms after it appears (once it has all its bytes)
// by 2 worker threads with the agent's own hashing code path (readSync 256 KiB + node:crypto, nice 10). The
// least any tool that hashes files as they are written must do, measured in the same run as the
// agent. Files an fs.watch event missed are hashed once the writer has ended (its report lists
// every file).
// Usage: node cameras-reference.mjs SIM_CLI CAMERAS_DIR FILES FILE_BYTES FOLDERS
// Prints one JSON line: { writeS, totalS, writerCpuS } (writer start → last close / → last hash;
// the writer's own CPU seconds).
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const [sim, camerasDir, filesArg, bytesArg, foldersArg] = process.argv.slice(2);
const files = Number(filesArg);
const dirs = Array.from({ length: Number(foldersArg) }, (_, i) => join(camerasDir, `cam${i + 1}`));
for (const d of dirs) mkdirSync(d, { recursive: true });

// Same read size and thread priority as the agent's hash workers (hash-pool.ts).
const WORKER = `const { parentPort } = require('node:worker_threads');
try { require('node:os').setPriority(0, 10); } catch {}
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(256 * 1024);
parentPort.on('message', (p) => {
  const fd = openSync(p, 'r');
  const h = createHash('sha256');
  let n;
  while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  closeSync(fd);
  parentPort.postMessage(h.digest('hex'));
});`;
const workers = [new Worker(WORKER, { eval: true }), new Worker(WORKER, { eval: true })];
let hashed = 0;
let next = 0;
const sent = new Set();
const fileBytes = Number(bytesArg);
// Hashed only once it has all its bytes (the writer writes each file whole, then the next): a file
// caught mid-write is looked at again shortly, so the reference never counts a partial hash.
const send = (p) => {
  if (sent.has(p)) return;
  let size = -1;
  try {
    size = statSync(p).size;
  } catch {}
  if (size < fileBytes) {
    setTimeout(() => send(p), 20);
    return;
  }
  sent.add(p);
  workers[next++ % workers.length].postMessage(p);
};
for (const w of workers) w.on('message', () => hashed++);
const watchers = dirs.map((d) => watch(d, (_ev, name) => name && setTimeout(() => send(join(d, name)), 150)));

const child = spawn(process.execPath, [sim, 'burst', '--out', camerasDir, '--files', String(files), '--bytes', bytesArg, '--cameras', foldersArg, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d) => (out += d));
const code = await new Promise((r) => child.on('exit', r));
if (code !== 0) {
  console.error(`hardware-sim burst exited ${code}`);
  process.exit(1);
}
const w = JSON.parse(out);
for (const p of Object.keys(w.closes)) send(p);
while (hashed < files) await new Promise((r) => setTimeout(r, 5));
const totalS = (Date.now() - w.startMs) / 1000;
for (const x of watchers) x.close();
await Promise.all(workers.map((x) => x.terminate()));
process.stdout.write(`${JSON.stringify({ writeS: (w.endMs - w.startMs) / 1000, totalS, writerCpuS: w.cpuUserS + w.cpuSystemS })}\n`);
