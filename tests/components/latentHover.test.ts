// The latent scatter's hover (issue #15): pointing at a point shows that test image, asked of the
// server by run and index (getTestImage) once, with its class; leaving the point hides it.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { LatentsResult, TestImage } from '@api/contract';
import LatentScatter from '../../src-renderer/src/components/LatentScatter.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { FakeTransport, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

const latents: LatentsResult = {
  runId: 'r1',
  evaluations: [{ step: 8, epoch: 0 }],
  step: 8,
  epoch: 0,
  count: 4,
  dims: 2,
  means: [0, 0, 1, 0, 0, 1, 1, 1],
  labels: [7, 2, 1, 0],
};
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

async function setup(answer: (index: number) => TestImage | Promise<TestImage>) {
  const transport = new FakeTransport({
    listRuns: () => [makeRun({ id: 'r1', name: 'digits' })],
    getLatents: () => latents,
    getTestImage: ({ index }) => answer(index),
  });
  const runs = new RunsStore(transport);
  await runs.load();
  render(LatentScatter, { props: { runs } });
  await settle();
  const point = (i: number) => screen.getByTestId('latent-scatter').querySelector(`[data-index="${i}"]`)!;
  return { transport, point };
}

describe('latent scatter hover', () => {
  it('shows the hovered test image with its class, asking the server once per point', async () => {
    const { transport, point } = await setup((index) => ({
      runId: 'r1',
      index,
      label: latents.labels![index],
      dataUrl: `${PNG}#${index}`,
      width: 28,
      height: 28,
    }));
    expect(screen.getAllByTestId('latent-point')).toHaveLength(4);
    expect(screen.queryByTestId('latent-hover-image')).toBeNull();

    await fireEvent.pointerEnter(point(1));
    await settle();
    const image = screen.getByTestId('latent-hover-image') as HTMLImageElement;
    expect(image.getAttribute('src')).toBe(`${PNG}#1`);
    expect([image.width, image.height]).toEqual([84, 84]);
    expect(screen.getByTestId('latent-hover').textContent).toContain('test example 1, class 2');
    expect(screen.getByTestId('latent-hover').getAttribute('data-index')).toBe('1');

    await fireEvent.pointerLeave(point(1));
    await settle();
    expect(screen.queryByTestId('latent-hover-image')).toBeNull();
    await fireEvent.pointerEnter(point(3));
    await settle();
    await fireEvent.pointerEnter(point(1));
    await settle();
    expect(screen.getByTestId('latent-hover').textContent).toContain('test example 1, class 2');
    expect(transport.callsOf('getTestImage')).toEqual([
      { runId: 'r1', index: 1 },
      { runId: 'r1', index: 3 },
    ]);
  });

  it('an image that arrives after the pointer moved on is not shown for the wrong point', async () => {
    let release: () => void = () => undefined;
    const { point } = await setup(
      (index) =>
        new Promise<TestImage>((resolve) => {
          const image = { runId: 'r1', index, label: null, dataUrl: `${PNG}#${index}`, width: 28, height: 28 };
          if (index === 0) release = () => resolve(image);
          else resolve(image);
        }),
    );
    await fireEvent.pointerEnter(point(0));
    await fireEvent.pointerLeave(point(0));
    await fireEvent.pointerEnter(point(2));
    await settle();
    release();
    await settle();
    expect((screen.getByTestId('latent-hover-image') as HTMLImageElement).getAttribute('src')).toBe(`${PNG}#2`);
  });

  it("says why when the run's test images cannot be loaded here", async () => {
    const { point } = await setup(() => {
      throw new Error('data set dataset:ds-0123456789ab cannot be loaded here');
    });
    await fireEvent.pointerEnter(point(2));
    await settle();
    expect(screen.getByTestId('latent-hover').textContent).toContain('cannot be loaded here');
  });
});
