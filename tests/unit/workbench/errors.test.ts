// The facade's one error table: every failure reaches HTTP, IPC and the CLI as the same status.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src-main/api/config';
import { ApiError } from '../../../src-main/api/contract';
import { handleIpcCall } from '../../../src-main/electron/ipcHandler';
import {
  InvalidInputError,
  InvalidTransitionError,
  NotFoundError,
  StoreFullError,
  StoreNotWritableError,
} from '../../../src-main/store';
import { exitCodeOf, ipcErrorOf, toApiError } from '../../../src-main/workbench/errors';
import { BundleError } from '../../../src-main/workbench/exchange/bundle';
import { ExchangeError } from '../../../src-main/workbench/exchange/common';
import { Workbench } from '../../../src-main/workbench/service';

const open: Workbench[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

describe('the error table', () => {
  it('maps each domain error to one status and one exit code', () => {
    const cases: [Error, number, number][] = [
      [new NotFoundError('No run with id x'), 404, 2],
      [new InvalidTransitionError('r1', 'completed', 'running', ''), 409, 2],
      [new InvalidInputError('Tag is empty'), 409, 2],
      [new StoreFullError('/data/workbench.sqlite', new Error('SQLITE_FULL')), 507, 1],
      [new StoreNotWritableError('/data/workbench.sqlite', new Error('EACCES')), 507, 1],
      [new ExchangeError(409, 'no checkpoint yet'), 409, 2],
      [new BundleError('manifest.json is missing'), 400, 2],
      [new ConfigError('Invalid run config', [{ path: 'model.latentDim', message: 'too big' }]), 400, 2],
      [new ApiError(413, 'too large'), 413, 1],
      [new Error('something else'), 500, 1],
    ];
    for (const [error, status, exitCode] of cases) {
      expect([error.name, toApiError(error).status, exitCodeOf(error)]).toEqual([error.name, status, exitCode]);
      expect(ipcErrorOf(error).status).toBe(status);
    }
    expect(toApiError(new BundleError('manifest.json is missing')).message).toBe(
      'Bundle refused, nothing was imported: manifest.json is missing',
    );
    expect(toApiError(new ConfigError('bad', [{ path: 'model.latentDim', message: 'too big' }])).field).toBe(
      'config.model.latentDim',
    );
  });

  it('dispatch validates once and maps once: IPC replies carry the status HTTP would send', async () => {
    const workbench = await Workbench.open({ db: mkdtempSync(join(tmpdir(), 'vaewb-errors-')), runQueue: false });
    open.push(workbench);
    expect(await handleIpcCall(workbench, 'getRun', { runId: 'abcdef12' })).toMatchObject({
      ok: false,
      error: { status: 404, message: expect.stringContaining("No run with id 'abcdef12'") },
    });
    expect(await handleIpcCall(workbench, 'nope', {})).toMatchObject({ ok: false, error: { status: 404 } });
    expect(await handleIpcCall(workbench, 'getRun', { runId: '../x' })).toMatchObject({
      ok: false,
      error: { status: 400, field: 'runId' },
    });
    const bad = await handleIpcCall(workbench, 'createRun', { config: { model: { latentDim: 100_000 } } });
    expect(bad).toMatchObject({ ok: false, error: { status: 400, field: 'config.model.latentDim' } });
    // The typed methods are dispatch under their names: the same validation and the same errors.
    await expect(workbench.getRun({ runId: 'abcdef12' })).rejects.toMatchObject({ status: 404 });
    expect(await workbench.listRuns()).toEqual([]);
  });
});
