// One chokidar 5 watcher per camera folder. It only says "look at this file": the settle tracker
// decides when the file is finished, and the periodic rescan catches whatever a watcher misses
// (bursts, #685; the initial-scan/watch race, #1112). Hence `ignoreInitial`: the start-up rescan
// lists the folder itself, after the watcher is ready, so nothing falls between the two.
import { EventEmitter } from 'node:events';
import type { Stats } from 'node:fs';
import { basename, extname } from 'node:path';
import { watch, type ChokidarOptions, type FSWatcher } from 'chokidar';

/** Options that only our patched chokidar knows (patches/chokidar@5.0.0.patch). */
interface PatchedOptions {
  /**
   * false: no watcher of its own per file; the folder's watcher reports writes to a file, a file
   * replaced and a file removed. A flight's folder of thousands of pictures then holds one inotify
   * watch and one handle, not one per picture (older kernels allow 8,192 watches per user in
   * all), and a write costs one event, not two and a stat.
   */
  flysnapFileWatchers: boolean;
}

export interface FolderWatcherOptions {
  /** Absolute, symlink-free folder to watch. */
  folder: string;
  /** Lower-case extensions with the dot ('.jpg'). */
  extensions: readonly string[];
  /** Sub-folder depth to follow (cameras make DCIM/100XXXXX). Default 4. */
  depth?: number;
}

export interface FolderWatcherEvents {
  /**
   * A file was added or changed: have a look at it. `stats`: the watcher's own stat of a file it
   * just found (an add), taken before the event; none for a change.
   */
  candidate: [path: string, stats?: Stats];
  /** A file was removed. */
  removed: [path: string];
  error: [error: Error];
}

/** True when `path` names a file the camera side cares about: a listed extension, not hidden. */
export function isAssetName(path: string, extensions: readonly string[]): boolean {
  return !isIgnoredEntry(path, 'file', extensions);
}

/**
 * The one rule, for the watcher and the rescan's listing alike, of what under a camera folder is
 * not looked at. Hidden entries ('.' first): editors' and OSes' droppings ('._IMG_0001.JPG',
 * '.Trashes'), writers' temporary names and folders; neither recorded nor followed, so a file the
 * watcher records is always one the listing sees (else it would be reported missing). Files
 * also need a listed extension. Anything neither a regular file nor a folder ('other': symbolic
 * links, which neither follows, as a file reached through one has another path than the one /proc
 * shows its writer with) is not looked at. `kind` 'unknown' (not stat'ed yet): the name decides.
 */
export function isIgnoredEntry(path: string, kind: 'file' | 'dir' | 'other' | 'unknown', extensions: readonly string[]): boolean {
  const name = basename(path);
  if (name.startsWith('.') || kind === 'other') return true;
  return kind === 'file' && !extensions.includes(extname(name).toLowerCase());
}

export class FolderWatcher extends EventEmitter<FolderWatcherEvents> {
  readonly #options: FolderWatcherOptions;
  #watcher: FSWatcher | null = null;

  constructor(options: FolderWatcherOptions) {
    super();
    this.#options = options;
  }

  /** Starts watching; resolves when chokidar is ready. */
  async start(): Promise<void> {
    const { folder, extensions } = this.#options;
    // chokidar 5 silently ignores glob patterns: filter with a function, the same rule as the
    // listing's (isIgnoredEntry). stats is undefined on the first call for a path.
    const ignored = (path: string, stats?: Stats): boolean => {
      if (path === folder) return false;
      const kind = !stats ? 'unknown' : stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : 'other';
      return isIgnoredEntry(path, kind, extensions);
    };
    const options: ChokidarOptions & PatchedOptions = {
      ignored,
      ignoreInitial: true,
      persistent: true,
      depth: this.#options.depth ?? 4,
      // Our own settle tracker proves completeness; awaitWriteFinish is not applied to files
      // present at start (#594) and adds a delay we do not need.
      awaitWriteFinish: false,
      alwaysStat: false,
      followSymlinks: false,
      flysnapFileWatchers: false,
    };
    const w = watch(folder, options);
    this.#watcher = w;
    w.on('add', (p: string, stats?: Stats) => this.emit('candidate', p, stats));
    w.on('change', (p: string) => this.emit('candidate', p));
    w.on('unlink', (p: string) => this.emit('removed', p));
    w.on('error', (e: unknown) => this.emit('error', e instanceof Error ? e : new Error(String(e))));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    const w = this.#watcher;
    this.#watcher = null;
    await w?.close();
  }
}
