import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BOOT_ID_ENV,
  KERNEL_BOOT_ID_PATH,
  PROCESS_BOOT_ID_PREFIX,
  currentBootId,
  isBootId,
  parseKernelBootId,
} from '../../src/flightdb/index.js';

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const canUseDist = existsSync(dist);
const hasKernelBootId = existsSync(KERNEL_BOOT_ID_PATH);

/** Runs `body` (an ES module with S = the built shared package) in a child with `env` added; its stdout. */
function child(body: string, env: Record<string, string | undefined>, wrap: string[] = []): string {
  const script = `const S = await import(${JSON.stringify(dist)});\n${body}`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv[BOOT_ID_ENV];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const args = [...wrap, process.execPath, '--input-type=module', '-e', script];
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', env: childEnv }).trim();
}

describe('boot ids', () => {
  it('parses the kernel boot id and checks what can be stored', () => {
    expect(parseKernelBootId('DDE0D645-965B-4DBB-9235-087A8343054F\n')).toBe('dde0d645-965b-4dbb-9235-087a8343054f');
    expect(parseKernelBootId('')).toBeNull();
    expect(parseKernelBootId('not-a-uuid\n')).toBeNull();
    expect(isBootId('dde0d645-965b-4dbb-9235-087a8343054f')).toBe(true);
    expect(isBootId('process-1')).toBe(true);
    expect(isBootId('')).toBe(false);
    expect(isBootId('a b')).toBe(false);
    expect(isBootId('x'.repeat(65))).toBe(false);
    expect(isBootId(null)).toBe(false);
  });

  it.skipIf(!hasKernelBootId || process.env[BOOT_ID_ENV] !== undefined)('is the kernel boot id on Linux, the same every time', () => {
    expect(currentBootId()).toBe(parseKernelBootId(readFileSync(KERNEL_BOOT_ID_PATH, 'latin1')));
    expect(currentBootId()).toBe(currentBootId());
  });

  it.skipIf(!canUseDist)('FLYSNAP_BOOT_ID overrides it; a value that is not a boot id is refused with a clear error', () => {
    expect(child('console.log(S.currentBootId());', { [BOOT_ID_ENV]: 'sim-boot-2' })).toBe('sim-boot-2');
    const bad = child(
      `try { S.currentBootId(); console.log('no error'); } catch (e) { console.log(e.code + ': ' + e.message); }`,
      { [BOOT_ID_ENV]: 'two words' },
    );
    expect(bad).toBe(`bad-options: ${BOOT_ID_ENV}="two words" is not a boot id (1-64 printable characters, no spaces)`);
  });

  // Without a kernel boot id (hidden here by a bind mount in a user+mount namespace): a random id per
  // process, which worker threads started afterwards share (they copy the environment), and which
  // differs in the next process.
  const canUnshare =
    hasKernelBootId && process.platform === 'linux' && spawnSync('unshare', ['-rm', 'true'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!canUnshare || !canUseDist)('falls back to a random id per process, shared by its worker threads', () => {
    const body = `
      const { Worker } = await import('node:worker_threads');
      const id = S.currentBootId();
      const src = 'Promise.all([import(' + JSON.stringify(${JSON.stringify(dist)}) + "), import('node:worker_threads')])" +
        '.then(([S, W]) => W.parentPort.postMessage(S.currentBootId()))';
      const w = new Worker(src, { eval: true });
      const inWorker = await new Promise((r) => w.once('message', r));
      await w.terminate();
      console.log(JSON.stringify({ id, env: process.env.${BOOT_ID_ENV}, inWorker }));`;
    const hide = ['unshare', '-rm', 'sh', '-c', `mount --bind /dev/null ${KERNEL_BOOT_ID_PATH} && exec "$@"`, 'sh'];
    const one = JSON.parse(child(body, {}, hide)) as { id: string; env: string; inWorker: string };
    const two = JSON.parse(child(body, {}, hide)) as { id: string; env: string; inWorker: string };
    expect(one.id.startsWith(PROCESS_BOOT_ID_PREFIX)).toBe(true);
    expect(one.env).toBe(one.id);
    expect(one.inWorker).toBe(one.id);
    expect(two.id.startsWith(PROCESS_BOOT_ID_PREFIX)).toBe(true);
    expect(two.id).not.toBe(one.id);
  });
});
