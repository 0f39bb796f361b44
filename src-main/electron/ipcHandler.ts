// The body of the one IPC handler, kept free of Electron imports so the contract tests can drive
// the preload transport's exact request/reply path under Node.
import { confineRequest } from '../api/confine';
import { ApiError, type RunSummary } from '../api/contract';
import type { Workbench } from '../workbench/service';

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: { message: string; field?: string } };

export async function handleIpcCall(
  workbench: Pick<Workbench, 'dispatch'>,
  method: unknown,
  payload: unknown,
): Promise<IpcReply> {
  try {
    // The window runs web content: it names no paths on the machine (issue #13); the native
    // dialogs of the File menu call the service directly with the path the person chose.
    await confineRequest(
      String(method),
      payload,
      (runId) => workbench.dispatch('getRun', { runId }) as Promise<RunSummary>,
    );
    return { ok: true, result: await workbench.dispatch(String(method), payload) };
  } catch (error) {
    const field = error instanceof ApiError ? error.field : undefined;
    return {
      ok: false,
      error: { message: error instanceof Error ? error.message : String(error), ...(field ? { field } : {}) },
    };
  }
}
