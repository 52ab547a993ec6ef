// The demo flight: filled in as the simulator and the agent land. For now: show the commands.
import { execFileSync } from 'node:child_process';
for (const cmd of ['hardware-sim', 'capture-agent', 'ingest-cli']) {
  process.stdout.write(execFileSync(process.execPath, [new URL(`../${cmd === 'hardware-sim' ? 'hardware-sim' : `packages/${cmd}`}/dist/cli.js`, import.meta.url).pathname, '--help'], { encoding: 'utf8' }));
}
