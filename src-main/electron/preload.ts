// Preload: exposes the workbench API object to the renderer through contextBridge, and nothing
// else (no ipcRenderer, no Node). Built as CommonJS because sandboxed preloads cannot be ESM.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { WorkbenchEvent } from '../api/contract';
import { IPC_CALL, IPC_EVENT } from './channels';

contextBridge.exposeInMainWorld('vaeWorkbench', {
  call: (method: string, request: unknown) => ipcRenderer.invoke(IPC_CALL, method, request),
  subscribe: (listener: (event: WorkbenchEvent) => void) => {
    const handler = (_event: IpcRendererEvent, payload: WorkbenchEvent) => listener(payload);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => ipcRenderer.removeListener(IPC_EVENT, handler);
  },
});
