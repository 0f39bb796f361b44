// The Electron window's one IPC handler takes no server paths either (issue #13): the File menu's
// native dialogs call the service directly with the path the person chose.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { handleIpcCall } from '../../../src-main/electron/ipcHandler';
import { Workbench } from '../../../src-main/workbench/service';
import { databaseHash, tempDir, removeTempDirs } from './helpers';

let dir: string;
let workbench: Workbench;

beforeAll(async () => {
  dir = tempDir();
  workbench = await Workbench.open({ db: join(dir, 'data'), runQueue: false });
});

afterAll(async () => {
  await workbench.close();
  removeTempDirs();
});

describe('IPC confinement', () => {
  it('refuses exportRun, importBundle, importDataset and path data sets, and writes nothing', async () => {
    const before = databaseHash(workbench.store.file);
    const out = join(dir, 'evil', 'x.zip');
    const replies = [
      await handleIpcCall(workbench, 'exportRun', { runId: 'abcd1234', out }),
      await handleIpcCall(workbench, 'importBundle', { path: '/etc/shadow' }),
      await handleIpcCall(workbench, 'importDataset', { path: '/etc/passwd' }),
      await handleIpcCall(workbench, 'createRun', { config: { data: { dataset: '/etc/passwd' } } }),
    ];
    expect(replies.map((r) => r.ok)).toEqual([false, false, false, false]);
    const messages = replies.map((r) => (r.ok ? '' : r.error.message));
    expect(messages[0]).toMatch(/exportRun takes a path on the machine/);
    expect(messages[1]).toMatch(/importBundle takes a path on the machine/);
    expect(messages[2]).toMatch(/importDataset takes a path on the machine/);
    expect(messages[3]).toMatch(/config\.data\.dataset: '\/etc\/passwd' is a path on the machine/);
    expect(existsSync(join(dir, 'evil'))).toBe(false);
    expect(databaseHash(workbench.store.file)).toBe(before);
  });

  it('still answers the methods that take no path', async () => {
    const reply = await handleIpcCall(workbench, 'listDatasets', {});
    expect(reply).toEqual({ ok: true, result: [] });
  });
});
