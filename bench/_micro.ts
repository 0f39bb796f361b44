import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/training/backend';
for (const acc of ['native-sgemm', 'none'] as const) {
  await initBackend('wasm', { accelerator: acc });
  const x = tf.randomNormal([128, 784]); const w = tf.randomNormal([784, 512]);
  const ops: [string, () => tf.Tensor][] = [['softplus', () => tf.softplus(x)], ['add', () => tf.add(w, w)], ['div', () => tf.div(w, w)], ['sqrt', () => tf.sqrt(w)], ['sum', () => tf.sum(w)], ['mulScalar', () => tf.mul(w, 0.9)]];
  const line: string[] = [];
  for (const [name, f] of ops) { f().dispose(); const s = performance.now(); for (let i = 0; i < 50; i++) f().dispose(); line.push(`${name} ${((performance.now() - s) / 50 * 1000).toFixed(0)}us`); }
  console.log(acc, line.join('  '));
}
