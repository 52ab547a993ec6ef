// `pnpm bench` for ingest-cli: runs every bench/*.bench.mjs, one after the other, each in its own
// process (so each one's peak RSS is its own), against the built dist/. Helpers (writers) in bench/
// without the .bench.mjs suffix are not run. BENCH_ONLY=cameras runs only names containing it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
if (!existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url)))) {
  console.error('ingest-cli bench: dist/ is missing; build first (pnpm exec tsc -b at the repo root)');
  process.exit(1);
}
const only = process.env.BENCH_ONLY ?? '';
const benches = readdirSync(here)
  .filter((n) => n.endsWith('.bench.mjs') && n.includes(only))
  .sort();
let failed = 0;
for (const b of benches) {
  console.log(`\n== ingest-cli bench: ${b}`);
  const r = spawnSync(process.execPath, [`${here}${b}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
