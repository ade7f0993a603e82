/** How `auto` decides from measured times, and how it says what it measured. */
import { describe, expect, it } from 'vitest';
import { describeProbe, fasterThanCpu } from '../../../src-main/engine/device';

describe('auto decides by the numbers', () => {
  it('keeps a device only where it was measured faster than the CPU', () => {
    expect(fasterThanCpu({ deviceMs: 4, cpuMs: 9 })).toBe(true);
    expect(fasterThanCpu({ deviceMs: 90, cpuMs: 9 })).toBe(false);
    // A tie is no reason to leave the CPU.
    expect(fasterThanCpu({ deviceMs: 9, cpuMs: 9 })).toBe(false);
  });

  it('says what was measured, on which test', () => {
    expect(describeProbe({ test: 'decode', deviceMs: 41.26, cpuMs: 1.04 })).toBe('slower than the CPU on a decode step of this model (41.3 ms against 1.0 ms)');
    expect(describeProbe({ test: 'compute', deviceMs: 0.5, cpuMs: 120 })).toBe('faster than the CPU on a test computation (0.5 ms against 120.0 ms)');
  });
});
