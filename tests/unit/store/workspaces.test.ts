// Saved workspaces: a view's state survives reopening the store; a malformed one is refused at
// the API boundary, and one the schema no longer accepts reads as none.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkspaceState } from '../../../src-main/api/contract';
import { Workbench } from '../../../src-main/workbench/service';

const state: WorkspaceState = {
  version: 1,
  selectedIds: ['abc', 'def'],
  colors: { abc: '#1f77b4', def: '#ff7f0e' },
  panels: [{ id: 'elbo', title: 'ELBO', metrics: ['test/elbo', 'test/iwae'] }],
  smoothing: 'auto',
  columns: ['status', 'final:test/kl'],
};

describe('saved workspaces', () => {
  it('round-trips through the store and survives reopening it', async () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-ws-'));
    const first = await Workbench.open({ db, runQueue: false });
    expect(await first.getWorkspace({})).toEqual({ name: 'default', state: null, updatedAt: null });
    await first.dispatch('saveWorkspace', { state });
    await first.dispatch('saveWorkspace', { state: { ...state, smoothing: 0.6 } });
    await first.close();
    const second = await Workbench.open({ db, runQueue: false });
    try {
      const saved = await second.getWorkspace({});
      expect(saved.state).toEqual({ ...state, smoothing: 0.6 });
      expect(saved.updatedAt).toBeGreaterThan(0);
      expect((await second.getWorkspace({ name: 'other' })).state).toBeNull();
      await expect(second.dispatch('saveWorkspace', { state: { ...state, colors: { abc: 'red' } } })).rejects.toThrow(
        /colors.abc: a #rrggbb colour/,
      );
      await expect(second.dispatch('saveWorkspace', { state: { ...state, extra: 1 } })).rejects.toThrow(
        /Invalid request/,
      );
      // A document written by another version that the schema no longer accepts reads as none.
      second.store.workspaces.set('default', { version: 99 });
      expect((await second.getWorkspace({})).state).toBeNull();
    } finally {
      await second.close();
    }
  });
});
