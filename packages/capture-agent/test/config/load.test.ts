import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/index.js';

const base = { array: '/mnt/array', ports: [{ name: 'gps', role: 'gps', path: '/dev/ttyUSB0' }] };

describe('config', () => {
  it('fills every default and resolves relative paths against the config folder', () => {
    const c = parseConfig({ array: 'array', ports: [{ name: 'gps', path: 'ports/gps' }], cameras: [{ device: 'v1', kind: 'video', folder: 'cam' }] }, 'f.json', '/etc/flysnap');
    expect(c.array).toBe('/etc/flysnap/array');
    expect(c.aircraft).toBe('unknown');
    expect(c.ports[0]).toEqual({
      name: 'gps', role: 'other', path: '/etc/flysnap/ports/gps', baudRate: 4800, dataBits: 8, parity: 'none', stopBits: 1,
      checksumPolicy: 'accept-flag', latencyMs: 0, watchdogMs: 3000, maxLineBytes: 4096, reconnectMinMs: 250, reconnectMaxMs: 5000,
    });
    expect(c.cameras[0]).toMatchObject({ extensions: ['.mp4', '.mov', '.mts'], settleMs: 5000, incompleteAfterMs: 120_000, clockOffsetMs: 0 });
    expect(c).toMatchObject({ rawFlushMs: 1000, dbFlushMs: 500, clockFitMs: 10_000, logLevel: 'info', notCameraWriters: [] });
  });

  it('takes process names that never write camera files, as /proc shows them (at most 15 characters)', () => {
    expect(parseConfig({ ...base, notCameraWriters: ['process_api'] }, 'f.json', '/').notCameraWriters).toEqual(['process_api']);
    let err: ConfigError | null = null;
    try {
      parseConfig({ ...base, notCameraWriters: ['a-very-long-daemon-name'] }, 'f.json', '/');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.issues).toEqual(['notCameraWriters[0]: process names in /proc are at most 15 bytes (longer ones are cut there)']);
    // Bytes, as the kernel counts them: 8 characters of 2 bytes each do not fit.
    expect(() => parseConfig({ ...base, notCameraWriters: ['éééééééé'] }, 'f.json', '/')).toThrow(ConfigError);
  });

  it('refuses a camera whose closedSettleMs is longer than its settleMs', () => {
    let err: ConfigError | null = null;
    try {
      parseConfig({ ...base, cameras: [{ device: 'cam1', kind: 'image', folder: 'c', closedSettleMs: 1500 }] }, 'f.json', '/');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.issues).toEqual(['cameras[0].closedSettleMs: must not be longer than settleMs (1000)']);
    expect(parseConfig({ ...base, cameras: [{ device: 'cam1', kind: 'image', folder: 'c', closedSettleMs: 1000 }] }, 'f.json', '/').cameras[0]?.closedSettleMs).toBe(1000);
  });

  it('accepts the simulator config as written', () => {
    const c = parseConfig(
      {
        array: '/d/array',
        aircraft: 'SIM-1',
        ports: [
          { name: 'gps', role: 'gps', path: '/d/ports/gps', baudRate: 38400 },
          { name: 'compass', role: 'compass', path: '/d/ports/compass', baudRate: 38400 },
          { name: 'altimeter', role: 'altimeter', path: '/d/ports/altimeter', baudRate: 9600 },
        ],
        cameras: [
          { device: 'cam1', kind: 'image', folder: '/d/array/cameras/cam1', extensions: ['.jpg'] },
          { device: 'video1', kind: 'video', folder: '/d/array/cameras/video1', extensions: ['.mp4'] },
        ],
      },
      'f.json',
      '/',
    );
    expect(c.ports.map((p) => p.role)).toEqual(['gps', 'compass', 'altimeter']);
    expect(c.cameras[0]?.settleMs).toBe(1000);
  });

  it('names each wrong field with its path', () => {
    const bad = { ...base, ports: [...base.ports, { name: 'gps', path: '/dev/ttyUSB0', parity: 'maybe', stopBits: 3, reconnectMinMs: 500, reconnectMaxMs: 100 }] };
    let err: ConfigError | null = null;
    try {
      parseConfig(bad, 'f.json', '/');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.code).toBe('INVALID');
    expect(err?.issues.map((i) => i.split(':')[0])).toEqual(['ports[1].parity', 'ports[1].stopBits']);
    // Cross-field rules run once the fields themselves are right.
    const dup = { ...base, ports: [...base.ports, { name: 'gps', path: '/dev/ttyUSB0', reconnectMinMs: 500, reconnectMaxMs: 100 }] };
    try {
      parseConfig(dup, 'f.json', '/');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.issues).toEqual([
      'ports[1].name: duplicates ports[0].name "gps"',
      'ports[1].path: duplicates ports[0].path "/dev/ttyUSB0"',
      'ports[1].reconnectMaxMs: must be >= reconnectMinMs (500)',
    ]);
  });
});
