// Preload: exposes the workbench API object to the renderer through contextBridge, and nothing
// else (no ipcRenderer, no Node). Built as CommonJS because sandboxed preloads cannot be ESM.
// Its shape is the contract's PreloadBridge: one typed `call` for every method, the workbench's
// and the desktop shell's (native dialogs), and `subscribe` for pushed events.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { BridgeReply, PreloadBridge, WorkbenchEvent } from '../api/contract';
import { IPC_CALL, IPC_EVENT } from './channels';

const bridge: PreloadBridge = {
  call: (method, request) => ipcRenderer.invoke(IPC_CALL, method, request) as Promise<BridgeReply>,
  subscribe: (listener) => {
    const handler = (_event: IpcRendererEvent, payload: WorkbenchEvent) => listener(payload);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => ipcRenderer.removeListener(IPC_EVENT, handler);
  },
};

contextBridge.exposeInMainWorld('vaeWorkbench', bridge);
