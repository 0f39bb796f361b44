// The two IPC channels between main and preload: one request/response, one event stream.
export const IPC_CALL = 'workbench:call';
export const IPC_EVENT = 'workbench:event';
