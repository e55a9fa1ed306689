/** Request/response pairs over postMessage, matched by id (the host answers with `response`). */
import { CHAT_REQUEST_TIMEOUT_MS } from '../core/limits';
import type { RequestMethod, RequestParams, RequestPayload, RequestResult, ResponsePayload, WebviewToHost } from '../protocol';

interface Pending {
  method: RequestMethod;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class RequestClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly post: (message: WebviewToHost) => void) {}

  request<K extends RequestMethod>(method: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    const id = this.nextId++;
    return new Promise<RequestResult<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `The extension did not answer "${method}" within ${CHAT_REQUEST_TIMEOUT_MS / 1000} s. Try again; if it keeps happening, reload the window.`,
          ),
        );
      }, CHAT_REQUEST_TIMEOUT_MS);
      this.pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject, timer });
      // The mapped union cannot be narrowed by a generic K; the shape is fixed by the signature above.
      this.post({ type: 'request', payload: { id, method, params } as RequestPayload });
    });
  }

  /** Settles the request a response answers; unknown ids (a reload dropped them) are ignored. */
  settle(response: ResponsePayload): void {
    const p = this.pending.get(response.id);
    if (!p) return;
    this.pending.delete(response.id);
    clearTimeout(p.timer);
    if (response.method !== p.method) {
      // An answer to another question must never be taken for this one's result.
      p.reject(new Error(`The extension answered "${response.method}" to the request "${p.method}". Reload the window.`));
      return;
    }
    if (response.ok) p.resolve(response.result);
    else p.reject(new Error(response.error));
  }
}
