// Runs one replay in its own process so its peak RSS is its own. Prints one JSON line.
import { replayLogs } from '../dist/replay/index.js';
import { silentLogger } from '../dist/log/index.js';

const [array, ...files] = process.argv.slice(2);
const start = process.hrtime.bigint();
const result = await replayLogs({ arrayRoot: array, logs: files.map((file) => ({ file })), log: silentLogger() });
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(
  `${JSON.stringify({ seconds, lines: result.lines, samples: result.samples, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
