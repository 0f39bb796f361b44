// The renderer's one way to reach the workbench: the Electron preload bridge when present,
// otherwise HTTP + Server-Sent Events against browser mode. Chosen once, at start-up.
import type {
  BridgeRequestOf,
  DesktopMethodName,
  DesktopRequestOf,
  DesktopResponseMap,
  MethodName,
  PreloadBridge,
  RequestOf,
  ResponseMap,
  WorkbenchEvent,
} from '@api/contract';

export type { PreloadBridge } from '@api/contract';

/** The desktop shell's methods (native save/open dialogs), present only in the Electron window. */
export interface DesktopCalls {
  call<M extends DesktopMethodName>(method: M, request: DesktopRequestOf<M>): Promise<DesktopResponseMap[M]>;
}

export interface Transport {
  readonly kind: 'electron' | 'http';
  call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseMap[M]>;
  /** Listens to pushed events; returns the function that stops listening. */
  subscribe(listener: (event: WorkbenchEvent) => void): () => void;
  /** Native dialogs through the preload bridge; absent in browser mode. */
  readonly desktop?: DesktopCalls;
}

declare global {
  interface Window {
    vaeWorkbench?: PreloadBridge;
  }
}

/**
 * The result of a browser-mode reply `{ok: true, result}`; `{ok: false, error}` and a body that is
 * not JSON throw a RemoteError with the server's message and status (`what` names the request).
 */
export async function readReply<T>(response: Response, what: string): Promise<T> {
  const body = (await response.json().catch(() => null)) as
    { ok: true; result: T } | { ok: false; error: { message: string; field?: string } } | null;
  if (!body)
    throw new RemoteError(
      `${what}: the server answered ${response.status} without a JSON body`,
      undefined,
      response.status,
    );
  if (!body.ok) throw new RemoteError(body.error.message, body.error.field, response.status);
  return body.result;
}

/** An error answered by the workbench; `field` names the bad input when there is one. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly field?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export function electronTransport(bridge: PreloadBridge): Transport {
  return {
    kind: 'electron',
    async call(method, request) {
      const reply = await bridge.call(method, request as BridgeRequestOf<typeof method>);
      if (!reply.ok) throw new RemoteError(reply.error.message, reply.error.field);
      return reply.result as never;
    },
    subscribe: (listener) => bridge.subscribe(listener),
    desktop: {
      async call(method, request) {
        const reply = await bridge.call(method, request as BridgeRequestOf<typeof method>);
        if (!reply.ok) throw new RemoteError(reply.error.message, reply.error.field);
        return reply.result as never;
      },
    },
  };
}

export function httpTransport(base = ''): Transport {
  const listeners = new Set<(event: WorkbenchEvent) => void>();
  let source: EventSource | null = null;
  return {
    kind: 'http',
    async call(method, request) {
      const response = await fetch(`${base}/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(request ?? {}),
      });
      return readReply<never>(response, method);
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!source) {
        source = new EventSource(`${base}/api/events`);
        source.onmessage = (message) => {
          const event = JSON.parse(message.data) as WorkbenchEvent;
          for (const l of listeners) l(event);
        };
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
}

export function createTransport(): Transport {
  return typeof window !== 'undefined' && window.vaeWorkbench
    ? electronTransport(window.vaeWorkbench)
    : httpTransport();
}
