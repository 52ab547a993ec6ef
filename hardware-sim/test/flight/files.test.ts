// Camera and video files as the agent sees them while they are being written.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exifCaptureTime } from '../../src/flight/exif.js';
import { imageBytes, VideoRecorder, writeImage } from '../../src/flight/files.js';
import { endsWithEoi } from '../../src/flight/jpeg.js';
import type { ImagePlan } from '../../src/flight/plan.js';
import { runCleanups, tempDir, until } from '../helpers.js';

afterEach(runCleanups);

const T = Date.UTC(2024, 5, 1, 9, 0, 0) * 1000;

function image(over: Partial<ImagePlan> = {}): ImagePlan {
  return { device: 'cam1', index: 1, relPath: 'IMG_0001.jpg', triggerS: 0, tUs: T, cameraClockUs: T, exif: exifCaptureTime(T), writeAtS: 0, writeMs: 30, cutAtFraction: null, ...over };
}

const sizeOf = (path: string): Promise<number> => stat(path).then((s) => s.size, () => -1);

describe('camera files', () => {
  it('the same seed gives the same bytes, another picture other bytes', () => {
    expect(imageBytes(image(), 1, 5000).equals(imageBytes(image(), 1, 5000))).toBe(true);
    expect(imageBytes(image(), 1, 5000).equals(imageBytes(image({ index: 2 }), 1, 5000))).toBe(false);
  });

  it('a slow camera leaves a growing, unfinished file visible before it completes', async () => {
    const dir = await tempDir();
    const path = join(dir, 'IMG_0001.jpg');
    const plan = image({ writeMs: 1500 });
    const bytes = imageBytes(plan, 1, 300_000);
    const writing = writeImage(path, plan, bytes);
    await until(async () => {
      const size = await sizeOf(path);
      return size > 0 && size < bytes.length;
    }, 'a partly written file');
    expect(endsWithEoi(await readFile(path))).toBe(false);
    expect(await writing).toBe(bytes.length);
    expect((await readFile(path)).equals(bytes)).toBe(true);
  });

  it('a camera that loses power leaves part of the file and no EOI', async () => {
    const dir = await tempDir();
    const path = join(dir, 'IMG_0001.jpg');
    const plan = image({ cutAtFraction: 0.4 });
    const bytes = imageBytes(plan, 1, 100_000);
    expect(await writeImage(path, plan, bytes)).toBe(Math.floor(bytes.length * 0.4));
    const onDisk = await readFile(path);
    expect(onDisk.equals(bytes.subarray(0, onDisk.length))).toBe(true);
    expect(endsWithEoi(onDisk)).toBe(false);
  });

  it('a recording video has an open-ended mdat; stopping gives it a size and a moov', async () => {
    const dir = await tempDir();
    const video = new VideoRecorder(join(dir, 'VID_0001.mp4'), 1);
    await video.start();
    await video.appendChunk(10_000);
    const recording = await readFile(video.path);
    const mdatAt = recording.readUInt32BE(0);
    expect(recording.subarray(mdatAt + 4, mdatAt + 8).toString()).toBe('mdat');
    expect(recording.readUInt32BE(mdatAt)).toBe(0);
    await video.appendChunk(10_000);
    await video.stop();
    const done = await readFile(video.path);
    expect(done.readUInt32BE(mdatAt)).toBe(8 + 20_000);
    expect(done.subarray(mdatAt + 8 + 20_000 + 4, mdatAt + 8 + 20_000 + 8).toString()).toBe('moov');
  });
});
