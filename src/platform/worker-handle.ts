import * as Comlink from 'comlink';

/**
 * One model worker behind a comlink facade, created on first use and torn down on
 * `terminate()`. A crash (an uncaught error at the worker's top level, or a message
 * that cannot be deserialized) is reported once and the handle starts afresh next time.
 */
export class WorkerHandle<Api extends object> {
  private worker: Worker | null = null;
  private remote: Comlink.Remote<Api> | null = null;

  constructor(
    private readonly create: () => Worker,
    private readonly onCrash: (error: unknown) => void,
  ) {}

  /** The worker's API (starting the worker if needed). */
  get api(): Comlink.Remote<Api> {
    if (!this.remote) {
      const worker = this.create();
      worker.addEventListener('error', this.handleError);
      worker.addEventListener('messageerror', this.handleError);
      this.worker = worker;
      this.remote = Comlink.wrap<Api>(worker);
    }
    return this.remote;
  }

  /**
   * A cheap round trip: reads a property that does not exist from the worker's exposed
   * object (a comlink GET), answered as soon as the worker's event loop is free. Resolves
   * at once when no worker is running.
   */
  async ping(): Promise<void> {
    const remote = this.remote as unknown as Record<string, PromiseLike<unknown>> | null;
    if (remote) await remote['voiceAgentPing'];
  }

  get running(): boolean {
    return this.worker !== null;
  }

  terminate(): void {
    const { worker, remote } = this;
    this.worker = null;
    this.remote = null;
    if (remote) remote[Comlink.releaseProxy]();
    if (worker) {
      worker.removeEventListener('error', this.handleError);
      worker.removeEventListener('messageerror', this.handleError);
      worker.terminate();
    }
  }

  private readonly handleError = (event: Event) => {
    this.terminate();
    this.onCrash(crashCause(event));
  };
}

export const WORKER_CODE_UNAVAILABLE =
  'its code could not be loaded (if the site was updated since this page was opened, reload the page)';

/**
 * What a worker's `error` / `messageerror` event tells. An `error` that is not an ErrorEvent
 * is the browser failing to load the worker's script or one of its imports, before any of it
 * ran: on a page left open across a redeploy, the hashed files it was built with are gone,
 * and only a reload brings the new ones.
 */
export function crashCause(event: Event): unknown {
  if (typeof ErrorEvent !== 'undefined' && event instanceof ErrorEvent) return event.error ?? event.message;
  return event.type === 'error' ? new Error(WORKER_CODE_UNAVAILABLE) : event.type;
}

/** Workers resolve relative URLs against their own location: hand them absolute ones. */
export function absoluteUrl(url: string): string {
  return new URL(url, document.baseURI).href;
}
