// A camera stand-in run as its own process (so /proc sees a real writer): copies SRC to DEST in
// CHUNKS pieces with DELAY_MS between them, fsyncs, closes. With HOLD=1 it leaves the last chunk
// unwritten and exits without it (a camera that lost power mid-file).
// Usage: node writer.mjs SRC DEST CHUNKS DELAY_MS [HOLD]
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

const [src, dest, chunksArg, delayArg, hold] = process.argv.slice(2);
const data = readFileSync(src);
const chunks = Math.max(1, Number(chunksArg));
const delayMs = Number(delayArg);
const size = Math.ceil(data.length / chunks);
const fd = openSync(dest, 'w');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < chunks; i++) {
  if (hold === '1' && i === chunks - 1) process.exit(0);
  writeSync(fd, data, i * size, Math.min(size, data.length - i * size));
  if (i < chunks - 1 && delayMs > 0) await sleep(delayMs);
}
fsyncSync(fd);
closeSync(fd);
