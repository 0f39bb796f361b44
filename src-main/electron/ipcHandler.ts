// The body of the one IPC handler, kept free of Electron imports so the contract tests can drive
// the preload transport's exact request/reply path under Node.
import { confineRequest } from '../api/confine';
import {
  ApiError,
  isDesktopMethodName,
  validateDesktopRequest,
  type AppInfo,
  type BridgeReply,
  type DesktopApi,
  type RunSummary,
} from '../api/contract';
import { ipcErrorOf } from '../workbench/errors';
import type { Workbench } from '../workbench/service';

export type IpcReply = BridgeReply;

/**
 * One call from the preload bridge: a desktop-shell method (native dialogs) goes to `desktop`,
 * validated against its schema; anything else to the workbench's dispatch. The workbench does not
 * know which shell carries it, so this shell stamps appInfo with its own transport.
 */
export async function handleIpcCall(
  workbench: Pick<Workbench, 'dispatch'>,
  method: unknown,
  payload: unknown,
  desktop?: DesktopApi,
): Promise<IpcReply> {
  try {
    const name = String(method);
    if (isDesktopMethodName(name)) {
      // The desktop methods name no paths: main shows the native dialog and uses what the person chose.
      if (!desktop) throw new ApiError(404, `'${name}' is answered only by the desktop window`);
      const handler = desktop[name] as (request: unknown) => Promise<unknown>;
      return { ok: true, result: await handler(validateDesktopRequest(name, payload)) };
    }
    // The window runs web content: it names no paths on the machine (issue #13).
    await confineRequest(name, payload, (runId) => workbench.dispatch('getRun', { runId }) as Promise<RunSummary>);
    const result = await workbench.dispatch(name, payload);
    if (name === 'appInfo') return { ok: true, result: { ...(result as AppInfo), transport: 'electron' } };
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: ipcErrorOf(error) };
  }
}
