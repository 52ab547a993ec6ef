// `hardware-sim ports`: null-modem PTY pairs held until Ctrl-C, for trying things by hand.
import { Command } from 'commander';
import { startSocatPair, stopSocat } from '../ports/socat.js';
import { stopSignal, untilAborted } from './common.js';

export function portsCommand(): Command {
  return new Command('ports')
    .summary('create virtual serial port pairs and hold them until Ctrl-C')
    .description(
      `Creates one pseudo-terminal pair per argument, joined like a null-modem cable: AGENT is the end
the agent (or serialport) opens, DEVICE the end you write into by hand (default AGENT-device).
Both are symlinks to /dev/pts/N, removed on Ctrl-C.`,
    )
    .argument('<AGENT[=DEVICE]...>', 'port paths')
    .addHelpText(
      'after',
      `
Example:
  hardware-sim ports /tmp/fs/gps
  # elsewhere:  cat /tmp/fs/gps          and   cat log.nmea > /tmp/fs/gps-device`,
    )
    .action(async (specs: string[]) => {
      const signal = stopSignal();
      const pairs: Array<{ child: Awaited<ReturnType<typeof startSocatPair>>['child']; links: [string, string] }> = [];
      // socat does not notice our end on its own here (it reads no pipe of ours): stop it with us.
      process.on('exit', () => pairs.forEach((p) => p.child.kill('SIGTERM')));
      try {
        for (const spec of specs) {
          const [agent = '', device = `${spec}-device`] = spec.split('=');
          const pair = await startSocatPair(agent, device);
          pairs.push({ child: pair.child, links: [agent, device] });
          process.stdout.write(`${agent} <-> ${device}  (${pair.devicePaths.join(' <-> ')})\n`);
        }
        process.stdout.write('ready; Ctrl-C removes them\n');
        await untilAborted(signal);
      } finally {
        await Promise.all(pairs.map((p) => stopSocat(p.child, ...p.links)));
      }
    });
}
