// Writes a POSIX tar (ustar headers, pax headers where a name needs them) to a file, one member
// at a time, hashing the archive as it is written and recording where each member starts.
//
// tar-stream does the header encoding (ustar, pax for long or UTF-8 names, base-256 sizes past
// 8 GiB) and refuses a member whose byte count differs from its header ("Size mismatch"). The
// offsets are counted here: every block the packer emits goes through its push(), in order, so
// the count before a member is its header offset, and what the member added beyond its data and
// padding is its header's length.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { once } from 'node:events';
import tarStream from 'tar-stream';

type Pack = ReturnType<typeof tarStream.pack>;
/** tar-stream's header, with the pax records it writes (missing from its type definitions). */
type PackHeader = Parameters<Pack['entry']>[0] & { pax?: Record<string, string> };

const BLOCK = 512;

/** Bytes of padding after `size` data bytes to the next 512-byte block. */
export function tarPadding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

export interface MemberOffsets {
  headerOffsetBytes: number;
  dataOffsetBytes: number;
}

export interface TarMemberHeader {
  name: string;
  type: 'file' | 'symlink';
  sizeBytes: number;
  mode: number;
  mtimeUs: number;
  linkTarget?: string;
}

/** A sink that a member's data is written into; resolves when the packer took the chunk. */
export interface MemberSink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<MemberOffsets>;
}

export class TarWriter {
  readonly path: string;
  #pack: Pack;
  #out: WriteStream;
  #pushedBytes = 0;
  #hash = createHash('sha256');
  #writtenBytes = 0;
  #drained: Promise<void>;
  #failure: Error | null = null;
  #busy = false;
  /** Rejects when the output file fails (disk full); handled, so a later failure is never unhandled. */
  #outFailed: Promise<never>;

  /** Creates `path` (it must not exist: 'wx'). */
  constructor(path: string) {
    this.path = path;
    this.#pack = tarStream.pack();
    const pack = this.#pack as Pack & { push(chunk: Buffer | null): boolean };
    const push = pack.push.bind(pack);
    pack.push = (chunk: Buffer | null): boolean => {
      if (chunk !== null) this.#pushedBytes += chunk.byteLength;
      return push(chunk);
    };
    // Large writes: the data arrives in 1 MiB chunks; let a few wait so reading and writing overlap.
    this.#out = createWriteStream(path, { flags: 'wx', highWaterMark: 8 * 1024 * 1024 });
    this.#outFailed = new Promise<never>((_, reject) => {
      this.#out.on('error', (err) => {
        this.#fail(err);
        reject(err);
      });
    });
    this.#outFailed.catch(() => undefined);
    this.#pack.on('error', (err: Error) => {
      this.#failure ??= err;
    });
    this.#drained = this.#consume();
    this.#drained.catch(() => undefined);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#pack.destroy(err);
  }

  async #consume(): Promise<void> {
    try {
      for await (const chunk of this.#pack as AsyncIterable<Buffer>) {
        this.#hash.update(chunk);
        this.#writtenBytes += chunk.byteLength;
        if (!this.#out.write(chunk)) {
          await Promise.race([once(this.#out, 'drain'), this.#outFailed]);
        }
      }
      this.#out.end();
      await Promise.race([once(this.#out, 'finish'), this.#outFailed]);
    } catch (err) {
      this.#failure ??= err as Error;
      this.#out.destroy();
      throw this.#failure;
    }
  }

  #check(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Starts a member; write its data into the sink, then end() it. One member at a time. */
  member(h: TarMemberHeader): MemberSink {
    this.#check();
    if (this.#busy) throw new Error('TarWriter: a member is still being written');
    this.#busy = true;
    const headerOffsetBytes = this.#pushedBytes;
    const header: PackHeader = {
      name: h.name,
      type: h.type,
      size: h.type === 'file' ? h.sizeBytes : 0,
      mode: h.mode,
      mtime: new Date(Math.floor(h.mtimeUs / 1000)),
      uid: 0,
      gid: 0,
      ...(h.linkTarget !== undefined ? { linkname: h.linkTarget } : {}),
      // A pax size record past 8 GiB: the ustar field cannot hold it (tar-stream would write
      // base-256, which GNU tar reads but strict POSIX readers do not).
      ...(h.type === 'file' && h.sizeBytes >= 8 * 1024 ** 3 ? { pax: { size: String(h.sizeBytes) } } : {}),
    };
    let done: (err?: Error | null) => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      done = (err): void => (err ? reject(err) : resolve());
    });
    finished.catch(() => undefined); // awaited by write()/end(); a failure between them is not unhandled
    const entry = this.#pack.entry(header, (err) => done(err ?? null));
    // A failed write (disk full) destroys the packer and every entry: the error reaches the
    // caller through `finished`, never as an unhandled 'error' event.
    entry.on('error', (err: Error) => done(this.#failure ?? err));
    const dataSize = header.size ?? 0;
    return {
      write: async (chunk: Buffer): Promise<void> => {
        this.#check();
        if (!entry.write(chunk)) {
          await Promise.race([once(entry, 'drain'), finished]);
        }
        this.#check();
      },
      end: async (): Promise<MemberOffsets> => {
        (entry as unknown as { end(): void }).end(); // streamx: end() takes no callback
        await finished;
        this.#check();
        this.#busy = false;
        const added = this.#pushedBytes - headerOffsetBytes;
        const headerLength = added - dataSize - tarPadding(dataSize);
        return { headerOffsetBytes, dataOffsetBytes: headerOffsetBytes + headerLength };
      },
    };
  }

  /** A member whose whole content is in memory (the manifest). */
  async addBuffer(h: Omit<TarMemberHeader, 'sizeBytes' | 'type'>, data: Buffer): Promise<MemberOffsets> {
    const sink = this.member({ ...h, type: 'file', sizeBytes: data.byteLength });
    if (data.byteLength > 0) await sink.write(data);
    return sink.end();
  }

  /** Ends the archive (two zero blocks) and waits until every byte is in the file (not fsynced). */
  async finish(): Promise<{ sizeBytes: number; sha256: string }> {
    this.#check();
    this.#pack.finalize();
    await this.#drained;
    return { sizeBytes: this.#writtenBytes, sha256: this.#hash.digest('hex') };
  }

  /** Stops at once (error or Ctrl-C): the file is closed; the caller removes it. */
  async abort(reason: Error): Promise<void> {
    this.#fail(reason);
    await this.#drained.catch(() => undefined);
    if (!this.#out.closed) {
      this.#out.destroy();
      await once(this.#out, 'close').catch(() => undefined);
    }
  }
}
