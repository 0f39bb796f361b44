// The one spelling of an environment switch that turns a feature off.
import { describe, expect, it } from 'vitest';
import { switchedOff } from '../../../src-main/api/envSwitch';
import { fusedAdamEnabled } from '../../../src-main/training/accelerate/adam';
import { fusedKernelsEnabled } from '../../../src-main/training/accelerate/fused';

describe('switchedOff', () => {
  it('is true for off, 0, false and no in any case, false for anything else and for unset', () => {
    const off = ['off', 'OFF', 'Off', '0', 'false', 'False', 'no', 'NO'];
    const on = [undefined, '', '1', 'on', 'true', 'yes', 'offf', ' off', 'no ', '00', 'disabled'];
    expect(off.map(switchedOff)).toEqual(off.map(() => true));
    expect(on.map(switchedOff)).toEqual(on.map(() => false));
  });

  it('is what the training switches read', () => {
    const saved = { fused: process.env.VAE_WORKBENCH_FUSED, adam: process.env.VAE_WORKBENCH_FUSED_ADAM };
    try {
      process.env.VAE_WORKBENCH_FUSED = 'No';
      process.env.VAE_WORKBENCH_FUSED_ADAM = 'yes';
      expect([fusedKernelsEnabled(), fusedAdamEnabled()]).toEqual([false, true]);
      process.env.VAE_WORKBENCH_FUSED = '1';
      process.env.VAE_WORKBENCH_FUSED_ADAM = 'FALSE';
      expect([fusedKernelsEnabled(), fusedAdamEnabled()]).toEqual([true, false]);
    } finally {
      for (const [key, value] of [
        ['VAE_WORKBENCH_FUSED', saved.fused],
        ['VAE_WORKBENCH_FUSED_ADAM', saved.adam],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
