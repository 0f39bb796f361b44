import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/training/backend';

describe('backend chain', () => {
  it('auto picks a working backend and records why it skipped the others', async () => {
    const info = await initBackend('auto');
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    // Without a hardware GPU, webgpu is left out first, with its reason; then tfjs-node where absent.
    expect(info.skipped[0]).toMatch(/^webgpu (skipped|unavailable): /);
    if (info.name !== 'tensorflow') expect(info.skipped[1]).toMatch(/tfjs-node/);
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).arraySync());
    expect(sum).toEqual([4, 6]);
  });
  it('cpu can be forced', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
