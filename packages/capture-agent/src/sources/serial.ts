// Serial ports as capture sources: a supervisor (open/reopen, framing) feeding the port's pipeline
// (raw log, decoder, clock, store), with status changes and gaps recorded in the flight DB.
import { serialLogPath, currentBootId } from '@flysnap/shared';
import type { PortConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { RawLogWriter, type RawLogReport } from '../rawlog/index.js';
import { monoNowUs } from '../serial/monoClock.js';
import { PortSupervisor, type PortStatusChange } from '../serial/supervisor.js';
import type { CaptureSource, SourceContext, SourceFactory } from './types.js';

export class SerialSource implements CaptureSource {
  readonly name: string;
  readonly #ctx: SourceContext;
  readonly #port: PortConfig;
  readonly #rawLog: RawLogWriter;
  readonly #supervisor: PortSupervisor;
  readonly #log: Logger;
  /** When the port last stopped delivering (monotonic µs), to report the gap when it is back. */
  #downSinceMonoUs: number | null = null;

  constructor(ctx: SourceContext, port: PortConfig) {
    this.name = `serial:${port.name}`;
    this.#ctx = ctx;
    this.#port = port;
    this.#log = ctx.log.child({ ns: `capture:serial:${port.name}` });
    this.#rawLog = new RawLogWriter(serialLogPath(ctx.arrayRoot, port.name), {
      port: port.name,
      header: {
        role: port.role,
        path: port.path,
        baud: String(port.baudRate),
        framing: `${port.dataBits}${port.parity[0]?.toUpperCase() ?? 'N'}${port.stopBits}`,
        session: new Date().toISOString(),
        // The boot whose monotonic clock the entries' receive times are on (replay keeps it).
        boot: currentBootId(),
        flight: ctx.flight.id,
      },
      // The raw log's failures (disk full, I/O error, file removed) and recovery: log + event.
      onReport: (report) => this.#onRawLogReport(report),
    });
    ctx.store.ensurePort({
      name: port.name,
      role: port.role,
      path: port.path,
      baudRate: port.baudRate,
      status: 'closed',
      lastError: null,
      statusTUs: Date.now() * 1000,
    });
    const pipe = ctx.pipeline.addPort(
      { name: port.name, role: port.role, latencyMs: port.latencyMs, checksumPolicy: port.checksumPolicy },
      this.#rawLog,
    );
    const log = this.#log;
    this.#supervisor = new PortSupervisor(
      port,
      {
        line: (bytes, monoUs, isCut) => pipe.line({ bytes, monoUs, isCut }),
        status: (change) => this.#onStatus(change),
      },
      log,
    );
  }

  /** Bytes received and not yet framed (a line still waiting for its LF). */
  get pendingBytes(): number {
    return this.#supervisor.pendingBytes;
  }

  start(): void {
    this.#supervisor.start();
  }

  async stop(): Promise<void> {
    await this.#supervisor.stop();
    this.#rawLog.close();
  }

  flush(): void {
    this.#rawLog.flush();
  }

  #onRawLogReport(r: RawLogReport): void {
    const name = this.#port.name;
    const data = { path: this.#rawLog?.path ?? null, sysCode: r.error?.sysCode ?? null, heldBytes: r.heldBytes, droppedEntries: r.droppedEntries, droppedBytes: r.droppedBytes };
    this.#log[r.level]({ port: name, event: r.code, code: r.error?.sysCode ?? r.error?.code ?? null, heldBytes: r.heldBytes, droppedEntries: r.droppedEntries }, r.message);
    this.#ctx.store.recordEvent({ tUs: Date.now() * 1000, monoUs: monoNowUs(), level: r.level, source: `port:${name}`, code: r.code, message: r.message, data });
  }

  #onStatus(change: PortStatusChange): void {
    const { store } = this.#ctx;
    const nowUs = Date.now() * 1000;
    const name = this.#port.name;
    store.setPortStatus(name, change.state, nowUs, change.error?.message ?? null);
    const source = `port:${name}`;
    const data = { state: change.state, previous: change.previous, code: change.error?.code ?? null, path: this.#port.path };
    if (change.state === 'open') {
      if (this.#downSinceMonoUs !== null) {
        const gapMs = Math.round((change.monoUs - this.#downSinceMonoUs) / 1000);
        store.recordEvent({ tUs: nowUs, monoUs: change.monoUs, level: 'info', source, code: 'port-reconnected', message: `port ${name} delivering again after a gap of ${gapMs} ms`, data: { ...data, gapMs, downSinceMonoUs: this.#downSinceMonoUs } });
        this.#downSinceMonoUs = null;
      } else {
        store.recordEvent({ tUs: nowUs, monoUs: change.monoUs, level: 'info', source, code: 'port-open', message: `port ${name} open`, data });
      }
    } else if (change.state === 'closed') {
      store.recordEvent({ tUs: nowUs, monoUs: change.monoUs, level: 'info', source, code: 'port-closed', message: `port ${name} closed`, data });
    } else {
      // The gap starts at the first state that is not 'open' (for a port missing at start: the start).
      if (this.#downSinceMonoUs === null) this.#downSinceMonoUs = change.monoUs;
      const code = change.state === 'missing' ? 'port-missing' : change.state === 'silent' ? 'port-silent' : 'port-lost';
      store.recordEvent({ tUs: nowUs, monoUs: change.monoUs, level: 'warn', source, code, message: change.error?.message ?? `port ${name} ${change.state}`, data });
    }
  }
}

/** One SerialSource per configured port. */
export const serialSources: SourceFactory = (ctx) => ctx.config.ports.map((port) => new SerialSource(ctx, port));
