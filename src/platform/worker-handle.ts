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
    this.onCrash(event instanceof ErrorEvent ? (event.error ?? event.message) : event.type);
  };
}

/** Workers resolve relative URLs against their own location: hand them absolute ones. */
export function absoluteUrl(url: string): string {
  return new URL(url, document.baseURI).href;
}
