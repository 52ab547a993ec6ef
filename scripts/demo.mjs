// The demo flight, end to end on a desk: hardware-sim flies a short survey window with three
// image cameras and a video camera on virtual serial ports; capture-agent records it onto a fresh
// array; then `capture-agent status` shows what the array holds, and the demo checks the assets
// against the simulator's ground truth (every picture recorded once, right hash, pose error).
//
// Usage: node scripts/demo.mjs OUT_DIR   (called by scripts/demo.sh after the set-up)
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(new URL('..', import.meta.url).pathname);
const simCli = join(root, 'hardware-sim/dist/cli.js');
const agentCli = join(root, 'packages/capture-agent/dist/cli.js');

/**
 * Flight seconds of the demo window. Flown in real time: at --speed > 1 GPS time runs faster than
 * the capture machine's clock, which no real receiver does, so the flight clock would not fit.
 */
const DEMO_DURATION_S = 40;
const DEMO_SPEED = 1;
/** The survey window starts after take-off and climb, on the flight lines. */
const DEMO_FROM_S = 240;

const base = resolve(process.argv[2] ?? join(root, 'demo-out'));
// Never reuse or delete an earlier demo: each run gets its own folder.
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const out = join(base, `flight-${stamp}`);
mkdirSync(base, { recursive: true });

function say(msg) {
  process.stdout.write(`[demo] ${msg}\n`);
}

function waitExit(child, name) {
  return new Promise((resolveExit, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolveExit();
      else reject(new Error(`${name} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

say(`simulated flight: ${DEMO_DURATION_S} s of survey at ${DEMO_SPEED}x, 3 cameras + video -> ${out}`);
const sim = spawn(
  process.execPath,
  [
    simCli, 'flight', '--out', out,
    '--from', String(DEMO_FROM_S), '--duration', String(DEMO_DURATION_S), '--speed', String(DEMO_SPEED),
    '--cameras', '3', '--seed', '7', '--gps-hz', '5', '--wait-reader',
  ],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
const simDone = waitExit(sim, 'hardware-sim');
// Whatever way this script ends (an error included), no child is left running: a leftover agent
// would keep the array locked and the terminal's output open.
const children = [sim];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const config = join(out, 'agent-config.json');
for (let i = 0; !existsSync(config); i++) {
  if (sim.exitCode !== null) throw new Error('hardware-sim ended before writing its agent config');
  if (i > 600) throw new Error(`no ${config} after 60 s`);
  await sleep(100);
}

say('capture-agent run --config agent-config.json');
const agent = spawn(process.execPath, [agentCli, 'run', '--config', config, '--log-level', 'warn'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
children.push(agent);
const agentDone = waitExit(agent, 'capture-agent');
agentDone.catch(() => {}); // awaited below; an early failure must not be an unhandled rejection
// The simulator (--wait-reader) ends once every port's data was read: if the agent never reads a
// port again, it would wait for ever. Fail clearly instead of hanging the set-up.
const SIM_TIMEOUT_MS = (DEMO_DURATION_S / DEMO_SPEED) * 1000 + 120_000;
let isTimedOut = false;
const simTimer = setTimeout(() => {
  isTimedOut = true;
  say(`FAILED: the simulated flight did not end within ${SIM_TIMEOUT_MS / 1000} s (a port not read to the end?)`);
  sim.kill('SIGTERM');
  agent.kill('SIGTERM');
}, SIM_TIMEOUT_MS);
await simDone.catch((e) => {
  if (!isTimedOut) throw e;
}).finally(() => clearTimeout(simTimer));
if (isTimedOut) {
  // Both were asked to stop; one that does not stop on SIGTERM must not hang the set-up either
  // (the exit handler above kills whatever is left).
  const stopped = (c) => c.exitCode !== null || c.signalCode !== null || new Promise((r) => c.once('exit', r));
  await Promise.race([Promise.all([stopped(sim), stopped(agent)]), sleep(10_000)]);
  process.exit(1);
}

// The last pictures must settle (size stable, file closed) before they are assets, and their
// poses may wait for the navigation samples after them: give the agent a moment, checking.
const array = join(out, 'array');
const runCheck = () =>
  JSON.parse(execFileSync(process.execPath, [join(root, 'scripts/demo-check.mjs'), out], { encoding: 'utf8' }));
// The demo injects no fault, so every picture must also have a pose.
const withoutPose = (c) => Object.values(c.withoutPose).reduce((n, k) => n + k, 0);
const isComplete = (c) => c.ok && withoutPose(c) === 0;
/** How long the agent may take after the flight to account for its last pictures. */
const SETTLE_TIMEOUT_MS = 30_000;
const settleDeadline = Date.now() + SETTLE_TIMEOUT_MS;
while (!isComplete(runCheck()) && Date.now() < settleDeadline) await sleep(500);
agent.kill('SIGTERM');
await agentDone;

say('capture-agent status --array ' + array);
process.stdout.write(execFileSync(process.execPath, [agentCli, 'status', '--array', array], { encoding: 'utf8' }));

const check = runCheck();
say(
  `${check.pictures} pictures taken, ${check.recorded} recorded once each with the right SHA-256, ` +
    `${check.missing} missing, ${check.duplicated} duplicated, ` +
    `${withoutPose(check)} without pose; pose vs ground truth: ` +
    `max ${check.maxPositionErrorM.toFixed(3)} m, ${check.maxHeadingErrorDeg.toFixed(3)} deg, ` +
    `${check.maxAltitudeErrorM.toFixed(3)} m altitude`,
);
if (!isComplete(check)) {
  say('FAILED: ' + [...check.problems, ...Object.entries(check.withoutPose).map(([r, n]) => `${n} without pose (${r})`)].join('; '));
  process.exit(1);
}
say(`ok: the flight is on the array in ${array}`);
