// Records a simulated flight the way the demo does: hardware-sim flies it on virtual serial ports
// (with faults), the built capture-agent records it onto a fresh array. Real processes, real PTYs.
import { openFlightDb, readAssets } from '@flysnap/shared';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const simCli = join(root, 'hardware-sim/dist/cli.js');
const agentCli = join(root, 'packages/capture-agent/dist/cli.js');

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

export interface Fault {
  fault: string;
  target: string;
  param: number;
  tUs: number;
  detail: { epochTUs?: number; untilTUs?: number };
}

export interface RecordedFlight {
  out: string;
  array: string;
  faults: Fault[];
  /** Pictures the simulated cameras took (truth/triggers.jsonl). */
  triggers: number;
}

function lines(file: string): unknown[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

/** Assets of image cameras in the flight DB, and how many still wait for navigation data. */
function assetState(array: string): { images: number; awaiting: number } {
  const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
  try {
    const assets = readAssets(db).filter((a) => a.device.startsWith('cam'));
    return { images: assets.length, awaiting: assets.filter((a) => (a.poseQuality as { isAwaitingData?: boolean } | null)?.isAwaitingData === true).length };
  } finally {
    db.close();
  }
}

export async function recordFlight(out: string, simArgs: string[]): Promise<RecordedFlight> {
  const sim = spawn(process.execPath, [simCli, 'flight', '--out', out, '--wait-reader', ...simArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let simErr = '';
  sim.stderr!.on('data', (b: Buffer) => (simErr += b.toString()));
  const children: ChildProcess[] = [sim];
  try {
    const config = join(out, 'agent-config.json');
    for (let i = 0; !existsSync(config); i++) {
      if (sim.exitCode !== null) throw new Error(`hardware-sim ended before writing its config: ${simErr}`);
      if (i > 300) throw new Error(`no ${config} after 30 s`);
      await sleep(100);
    }
    const agent = spawn(process.execPath, [agentCli, 'run', '--config', config, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(agent);
    let agentErr = '';
    agent.stderr!.on('data', (b: Buffer) => (agentErr += b.toString()));
    const simCode = await exited(sim);
    if (simCode !== 0) throw new Error(`hardware-sim exited ${simCode}: ${simErr}`);
    const triggers = lines(join(out, 'truth', 'triggers.jsonl')).length;
    const array = join(out, 'array');
    // The last pictures settle and wait for the samples after them: give the agent a moment.
    for (let i = 0; i < 60; i++) {
      const s = assetState(array);
      if (s.images >= triggers && s.awaiting === 0) break;
      await sleep(500);
    }
    agent.kill('SIGTERM');
    const agentCode = await exited(agent);
    if (agentCode !== 0) throw new Error(`capture-agent exited ${agentCode}: ${agentErr}`);
    return { out, array, faults: lines(join(out, 'truth', 'faults.jsonl')) as Fault[], triggers };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
