// The body of the one IPC handler, kept free of Electron imports so the contract tests can drive
// the preload transport's exact request/reply path under Node.
import { ipcErrorOf, type ApiStatus } from '../workbench/errors';
import type { Workbench } from '../workbench/service';

export type IpcReply =
  { ok: true; result: unknown } | { ok: false; error: { message: string; status: ApiStatus; field?: string } };

export async function handleIpcCall(
  workbench: Pick<Workbench, 'dispatch'>,
  method: unknown,
  payload: unknown,
): Promise<IpcReply> {
  try {
    return { ok: true, result: await workbench.dispatch(String(method), payload) };
  } catch (error) {
    return { ok: false, error: ipcErrorOf(error) };
  }
}
