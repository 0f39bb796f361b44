import * as tf from '@tensorflow/tfjs';
import { trainBench } from './train';
const acc = (process.argv[2] ?? 'native-sgemm') as 'native-sgemm';
await trainBench({ backend: 'wasm', accelerator: acc, steps: 2 });
const orig = tf.engine().runKernel.bind(tf.engine());
const times = new Map<string, { ms: number; n: number }>();
(tf.engine() as any).runKernel = (name: string, inputs: any, attrs: any) => {
  const s = performance.now(); const r = orig(name, inputs, attrs); const e = performance.now() - s;
  const key = name + (name.includes('MatMul') || ['Tile','Identity','Softplus','Multiply'].includes(name) ? `[${Object.values(inputs).map((t: any) => t?.shape?.join('x')).join(',')} ${attrs?.transposeA ? 'T' : ''}${attrs?.transposeB ? 'T' : ''}]` : '');
  const t = times.get(key) ?? { ms: 0, n: 0 }; t.ms += e; t.n++; times.set(key, t); return r;
};
const t0 = performance.now();
const r = await trainBench({ backend: 'wasm', accelerator: acc, steps: 10, warmup: 0, threads: Number(process.env.T ?? 0) || undefined });
const total = performance.now() - t0;
const list = [...times].sort((a, b) => b[1].ms - a[1].ms);
const kern = list.reduce((a, [, t]) => a + t.ms, 0);
console.log('total per step', (total / 10).toFixed(1), 'runKernel per step', (kern / 10).toFixed(1), 'median', r.medianStepMs.toFixed(1));
for (const [name, t] of list.slice(0, 30)) console.log(name.padEnd(50), (t.ms / 10).toFixed(2), 'ms/step', (t.n / 10).toFixed(0), 'calls');
