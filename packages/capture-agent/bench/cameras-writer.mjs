// Camera stand-in for the camera benchmark, run as its own process: writes COUNT JPEG files of
// SIZE bytes round-robin into the given folders, each in 1 MiB writes then closed, at RATE files/s
// (0 = as fast as possible). Prints one JSON line at the end: { startMs, endMs, closes: {path: ms} }
// with wall-clock close times (what the agent's recorded_t_us is compared with).
// Usage: node cameras-writer.mjs COUNT SIZE RATE DIR1 [DIR2 ...]
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const [countArg, sizeArg, rateArg, ...dirs] = process.argv.slice(2);
const count = Number(countArg);
const size = Number(sizeArg);
const rate = Number(rateArg);
const WRITE_BYTES = 1024 * 1024;
// One random body shared by all files; each file gets its own header so every hash differs.
const body = randomBytes(size);
body[0] = 0xff;
body[1] = 0xd8;
body[size - 2] = 0xff;
body[size - 1] = 0xd9;
const closes = {};
const startMs = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < count; i++) {
  if (rate > 0) {
    const dueMs = startMs + (i * 1000) / rate;
    const wait = dueMs - Date.now();
    if (wait > 0) await sleep(wait);
  }
  const dir = dirs[i % dirs.length];
  const path = join(dir, `IMG_${String(i).padStart(5, '0')}.jpg`);
  body.writeUInt32BE(i, 2); // unique bytes right after SOI
  const fd = openSync(path, 'w');
  for (let off = 0; off < size; off += WRITE_BYTES) writeSync(fd, body, off, Math.min(WRITE_BYTES, size - off));
  closeSync(fd);
  closes[path] = Date.now();
}
process.stdout.write(`${JSON.stringify({ startMs, endMs: Date.now(), closes })}\n`);
