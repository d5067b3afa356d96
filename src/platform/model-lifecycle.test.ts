import { afterEach, describe, expect, it, vi } from 'vitest';
import { VoiceAgentError } from './errors.ts';
import {
  LossSignal,
  ModelLifecycle,
  ModelUnloadedError,
  measureCapabilities,
  type MeasuredCapabilities,
  type ModelLifecycleOptions,
  type ModelPlan,
} from './model-lifecycle.ts';
import type { FileProgress } from './protocol.ts';

interface FakeSettings {
  readonly model: string;
  readonly device: 'auto' | 'wasm';
  /** Applies per call; not part of the worker's identity. */
  readonly temperature?: number;
}

/** A fake worker API: `load` resolves or rejects as the test scripts it. */
interface FakeApi {
  readonly id: number;
  load(plan: ModelPlan, onProgress: (progress: FileProgress) => void): Promise<void>;
  run(): Promise<string>;
}

/** A promise the test settles by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const GPU: MeasuredCapabilities = { webgpu: true, shaderF16: true, crossOriginIsolated: true, cores: 8 };
const NO_GPU: MeasuredCapabilities = { webgpu: false, shaderF16: false, crossOriginIsolated: true, cores: 2 };
const SETTINGS: FakeSettings = { model: 'fake/model', device: 'auto' };

/**
 * A fake model port: fake workers whose loads succeed unless `failLoadOn` names the
 * device, a fake probe, and everything the lifecycle reports.
 */
function fakePort(
  measured: MeasuredCapabilities,
  script: {
    failLoadOn?: ReadonlySet<'webgpu' | 'wasm'>;
    holdLoads?: boolean;
    failRunOn?: 'webgpu';
    /** Supervised calls, the fake worker answering pings unless `deaf`. */
    supervise?: { heartbeatMs: number; unansweredMs: number; deadlineMs: number };
  } = {},
) {
  const restarts: string[] = [];
  const errors: VoiceAgentError[] = [];
  const loadFailures: VoiceAgentError[] = [];
  const progress: FileProgress[] = [];
  const ready: { plan: ModelPlan; fellBack: boolean }[] = [];
  const workers: { api: FakeApi; terminated: boolean; crash: (error: unknown) => void; plan?: ModelPlan }[] = [];
  const heldLoads: ReturnType<typeof deferred<void>>[] = [];
  let probes = 0;
  const options: ModelLifecycleOptions<FakeSettings, ModelPlan, FakeApi> = {
    what: 'fake model',
    probe: async () => {
      probes++;
      return measured;
    },
    plan: (settings, caps) => ({
      model: settings.model,
      device: caps.webgpu && settings.device !== 'wasm' ? 'webgpu' : 'wasm',
      dtype: caps.webgpu ? 'q4' : 'q8',
      reason: caps.webgpu ? 'fake adapter' : 'no fake adapter',
    }),
    fallbackPlan: (failed, _settings, cause) => ({ ...failed, device: 'wasm', dtype: 'q8', reason: `fell back: ${cause}` }),
    identity: (settings) => (settings ? { model: settings.model, device: settings.device } : null),
    spawn: (onCrash) => {
      const record = {
        terminated: false,
        crash: onCrash,
        plan: undefined as ModelPlan | undefined,
        api: {
          id: workers.length + 1,
          load: async (plan: ModelPlan, onProgress: (p: FileProgress) => void) => {
            record.plan = plan;
            onProgress({ file: `${plan.device}.onnx`, loaded: 1, total: 2 });
            if (script.holdLoads) {
              const held = deferred();
              heldLoads.push(held);
              await held.promise;
            }
            if (script.failLoadOn?.has(plan.device)) throw new Error(`fake ${plan.device} load failed`);
            onProgress({ file: `${plan.device}.onnx`, loaded: 2, total: 2 });
          },
          run: async () => {
            if (record.plan?.device === script.failRunOn) throw new Error('fake GPU run failed');
            return `ran on ${record.plan?.device}`;
          },
        },
        terminate: () => {
          record.terminated = true;
        },
        /** A fake worker that is hung (or terminated from outside) never answers. */
        deaf: false,
        ping: () => (record.deaf ? new Promise<void>(() => {}) : Promise.resolve()),
      };
      workers.push(record);
      return record;
    },
    load: (api, plan, _settings, onProgress) => api.load(plan, onProgress),
    onProgress: (p) => progress.push(p),
    onError: (error) => errors.push(error),
    onLoadFailed: (error) => loadFailures.push(error),
    onReady: (plan, { fellBack }) => ready.push({ plan, fellBack }),
    ...(script.supervise ? { supervise: script.supervise, onRestarted: (cause: string) => restarts.push(cause) } : {}),
  };
  const lifecycle = new ModelLifecycle(options);
  lifecycle.configure(SETTINGS);
  return { lifecycle, errors, loadFailures, progress, ready, workers, heldLoads, restarts, probes: () => probes };
}

describe('ModelLifecycle', () => {
  it('measures once, loads the planner’s plan and reports it ready', async () => {
    const port = fakePort(GPU);
    const plan = await port.lifecycle.load();
    expect(plan).toEqual({ model: 'fake/model', device: 'webgpu', dtype: 'q4', reason: 'fake adapter' });
    expect(port.lifecycle.plan).toEqual(plan);
    expect(port.lifecycle.measured).toEqual(GPU);
    expect(port.ready).toEqual([{ plan, fellBack: false }]);
    expect(port.errors).toEqual([]);
    // Concurrent and later calls share the load.
    await Promise.all([port.lifecycle.load(), port.lifecycle.load()]);
    expect(port.workers).toHaveLength(1);
    expect(port.probes()).toBe(1);
  });

  it('forwards load progress', async () => {
    const port = fakePort(NO_GPU);
    await port.lifecycle.load();
    expect(port.progress).toEqual([
      { file: 'wasm.onnx', loaded: 1, total: 2 },
      { file: 'wasm.onnx', loaded: 2, total: 2 },
    ]);
  });

  it('a WebGPU load failure falls back to WASM exactly once, reporting gpu-fallback', async () => {
    const port = fakePort(GPU, { failLoadOn: new Set(['webgpu']) });
    const plan = await port.lifecycle.load();
    expect(plan.device).toBe('wasm');
    expect(plan.reason).toBe('fell back: fake webgpu load failed');
    expect(port.errors.map((e) => e.code)).toEqual(['gpu-fallback']);
    expect(port.errors[0]!.message).toContain('fake webgpu load failed');
    expect(port.lifecycle.fallback).toBe('fake webgpu load failed');
    expect(port.workers).toHaveLength(2);
    expect(port.workers[0]!.terminated).toBe(true); // the failed GPU worker is gone
    expect(port.workers[1]!.terminated).toBe(false);
    expect(port.ready).toEqual([{ plan, fellBack: true }]);
    expect(port.loadFailures).toEqual([]);
  });

  it('a second failure (WASM too) is model-load-failed, reported once, and the next load tries again', async () => {
    const port = fakePort(GPU, { failLoadOn: new Set(['webgpu', 'wasm']) });
    await expect(port.lifecycle.load()).rejects.toMatchObject({ code: 'model-load-failed' });
    expect(port.errors.map((e) => e.code)).toEqual(['gpu-fallback']);
    expect(port.loadFailures.map((e) => e.code)).toEqual(['model-load-failed']);
    expect(port.loadFailures[0]!.message).toContain('fake wasm load failed');
    expect(port.lifecycle.failed).toBe(true);
    expect(port.lifecycle.api).toBeNull();
    expect(port.workers.every((w) => w.terminated)).toBe(true);
    expect(port.workers).toHaveLength(2);

    await expect(port.lifecycle.load()).rejects.toMatchObject({ code: 'model-load-failed' });
    expect(port.workers).toHaveLength(4); // a fresh try: GPU, then one fallback
  });

  it('a WASM load failure does not fall back', async () => {
    const port = fakePort(NO_GPU, { failLoadOn: new Set(['wasm']) });
    await expect(port.lifecycle.load()).rejects.toMatchObject({ code: 'model-load-failed' });
    expect(port.errors).toEqual([]);
    expect(port.workers).toHaveLength(1);
  });

  it('dispose during a load: the worker is terminated, the load is ignored, nothing is reported', async () => {
    const port = fakePort(GPU, { holdLoads: true, failLoadOn: new Set(['webgpu']) });
    const loading = port.lifecycle.load();
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(port.workers).toHaveLength(1);
    port.lifecycle.dispose();
    expect(port.workers[0]!.terminated).toBe(true);
    await expect(loading).rejects.toMatchObject({ code: 'worker-failed' });
    // Told apart from a failure, so a caller that reports load failures can leave it out.
    await expect(loading).rejects.toBeInstanceOf(ModelUnloadedError);
    // The held GPU load now fails: a stale load must not fall back or report.
    port.heldLoads[0]!.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(port.workers).toHaveLength(1);
    expect(port.errors).toEqual([]);
    expect(port.loadFailures).toEqual([]);
    expect(port.ready).toEqual([]);
    expect(port.progress).toHaveLength(1); // only the report from before the dispose
    expect(port.lifecycle.plan).toBeNull();
  });

  it('reconfigure: a changed identity means a new worker on the next load; other changes keep it', async () => {
    const port = fakePort(GPU);
    await port.lifecycle.load();
    expect(port.lifecycle.configure({ ...SETTINGS, temperature: 0.5 })).toBe(false);
    await port.lifecycle.load();
    expect(port.workers).toHaveLength(1);

    expect(port.lifecycle.configure({ ...SETTINGS, device: 'wasm' })).toBe(true);
    expect(port.workers[0]!.terminated).toBe(true);
    expect(port.lifecycle.plan).toBeNull();
    const plan = await port.lifecycle.load();
    expect(plan.device).toBe('wasm');
    expect(port.workers).toHaveLength(2);
    expect(port.probes()).toBe(1); // the browser was measured once
  });

  it('callWithFallback: a failed GPU call reloads on WASM once and retries there', async () => {
    const port = fakePort(GPU, { failRunOn: 'webgpu' });
    await port.lifecycle.load();
    await expect(port.lifecycle.callWithFallback((api) => api.run())).resolves.toBe('ran on wasm');
    expect(port.errors.map((e) => e.code)).toEqual(['gpu-fallback']);
    expect(port.lifecycle.plan?.device).toBe('wasm');
    await expect(port.lifecycle.callWithFallback((api) => api.run())).resolves.toBe('ran on wasm');
    expect(port.workers).toHaveLength(2);
  });

  it('a crashed worker rejects calls under way, disposes and reports worker-failed', async () => {
    const port = fakePort(NO_GPU);
    await port.lifecycle.load();
    const never = port.lifecycle.call(() => new Promise<string>(() => {}));
    port.workers[0]!.crash(new Error('fake crash'));
    await expect(never).rejects.toMatchObject({ code: 'worker-failed' });
    expect(port.errors.map((e) => e.code)).toEqual(['worker-failed']);
    expect(port.lifecycle.api).toBeNull();
    await expect(port.lifecycle.call((api) => api.run())).rejects.toMatchObject({ code: 'model-load-failed' });
  });
});

describe('ModelLifecycle supervised calls', () => {
  const supervise = { heartbeatMs: 1000, unansweredMs: 3000, deadlineMs: 20_000 };
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a crash during a call restarts the worker with the same plan and retries the call once', async () => {
    const port = fakePort(NO_GPU, { supervise });
    await port.lifecycle.load();
    let tries = 0;
    const result = port.lifecycle.call((api) => (++tries === 1 ? new Promise<string>(() => {}) : api.run()));
    port.workers[0]!.crash(new Error('fake crash'));
    await expect(result).resolves.toBe('ran on wasm');
    expect(tries).toBe(2);
    expect(port.workers).toHaveLength(2);
    expect(port.workers[0]!.terminated).toBe(true);
    expect(port.workers[1]!.plan).toEqual(port.lifecycle.plan);
    expect(port.restarts).toHaveLength(1);
    expect(port.restarts[0]).toContain('fake crash');
    expect(port.errors).toEqual([]);
  });

  it('a worker that stops answering its heartbeat is restarted and the call retried', async () => {
    vi.useFakeTimers();
    const port = fakePort(NO_GPU, { supervise });
    await port.lifecycle.load();
    let tries = 0;
    const result = port.lifecycle.call((api) => (++tries === 1 ? new Promise<string>(() => {}) : api.run()));
    (port.workers[0] as unknown as { deaf: boolean }).deaf = true;
    await vi.advanceTimersByTimeAsync(supervise.heartbeatMs + supervise.unansweredMs);
    await expect(result).resolves.toBe('ran on wasm');
    expect(port.restarts[0]).toContain('stopped answering');
    expect(port.workers).toHaveLength(2);
  });

  it('a busy worker that still answers pings is left alone until the call deadline', async () => {
    vi.useFakeTimers();
    const port = fakePort(NO_GPU, { supervise });
    await port.lifecycle.load();
    let tries = 0;
    const result = port.lifecycle.call((api) => (++tries === 1 ? new Promise<string>(() => {}) : api.run()));
    await vi.advanceTimersByTimeAsync(supervise.deadlineMs - 1);
    expect(port.workers).toHaveLength(1);
    expect(port.restarts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ran on wasm');
    expect(port.restarts[0]).toContain('did not finish');
  });

  it('a worker whose load was slow (a slow device) gets a deadline of three loads, not the floor', async () => {
    vi.useFakeTimers();
    const port = fakePort(NO_GPU, { supervise, holdLoads: true });
    const loaded = port.lifecycle.load();
    await vi.advanceTimersByTimeAsync(0);
    const slowLoadMs = supervise.deadlineMs * 2; // the fake device needed 40 s to load and warm up
    await vi.advanceTimersByTimeAsync(slowLoadMs);
    port.heldLoads[0]!.resolve();
    await loaded;
    let tries = 0;
    const result = port.lifecycle.call((api) => (++tries === 1 ? new Promise<string>(() => {}) : api.run()));
    await vi.advanceTimersByTimeAsync(3 * slowLoadMs - 1);
    expect(port.restarts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(port.heldLoads).toHaveLength(2));
    port.heldLoads[1]!.resolve(); // the replacement worker's load
    await expect(result).resolves.toBe('ran on wasm');
    expect(port.restarts[0]).toContain(`within ${(3 * slowLoadMs) / 1000} s`);
  });

  it('a worker lost again on the retry ends in one worker-failed; the next load starts afresh', async () => {
    const port = fakePort(NO_GPU, { supervise });
    await port.lifecycle.load();
    const never = port.lifecycle.call(() => new Promise<string>(() => {}));
    port.workers[0]!.crash(new Error('fake crash 1'));
    await vi.waitFor(() => expect(port.workers).toHaveLength(2));
    await vi.waitFor(() => expect(port.restarts).toHaveLength(1));
    port.workers[1]!.crash(new Error('fake crash 2'));
    await expect(never).rejects.toMatchObject({ code: 'worker-failed' });
    expect(port.errors.map((e) => e.code)).toEqual(['worker-failed']);
    expect(port.lifecycle.api).toBeNull();
    await port.lifecycle.load();
    await expect(port.lifecycle.call((api) => api.run())).resolves.toBe('ran on wasm');
  });

  it('a dispose during a call is not a lost worker: no restart', async () => {
    const port = fakePort(NO_GPU, { supervise });
    await port.lifecycle.load();
    const never = port.lifecycle.call(() => new Promise<string>(() => {}));
    port.lifecycle.dispose();
    await expect(never).rejects.toMatchObject({ code: 'worker-failed' });
    expect(port.workers).toHaveLength(1);
    expect(port.restarts).toEqual([]);
    expect(port.errors).toEqual([]);
  });
});

describe('measureCapabilities', () => {
  it('reads the adapter, shader-f16, cores and memory', async () => {
    const fakeNavigator = {
      gpu: { requestAdapter: async () => ({ features: new Set(['shader-f16']) }) },
      hardwareConcurrency: 4,
      deviceMemory: 8,
    };
    expect(await measureCapabilities({ navigator: fakeNavigator, crossOriginIsolated: true })).toEqual({
      webgpu: true,
      shaderF16: true,
      crossOriginIsolated: true,
      cores: 4,
      memoryGb: 8,
    });
  });

  it('a requestAdapter() that hangs counts as no WebGPU once the timeout passes', async () => {
    const fakeNavigator = { gpu: { requestAdapter: () => new Promise<never>(() => {}) }, hardwareConcurrency: 2 };
    const measured = await measureCapabilities({ navigator: fakeNavigator }, 20);
    expect(measured).toEqual({ webgpu: false, shaderF16: false, crossOriginIsolated: false, cores: 2 });
  });

  it('no navigator.gpu, or a throwing one, is WASM', async () => {
    expect((await measureCapabilities({ navigator: {} })).webgpu).toBe(false);
    const throwing = { gpu: { requestAdapter: () => Promise.reject(new Error('fake')) } };
    expect((await measureCapabilities({ navigator: throwing })).webgpu).toBe(false);
  });
});

describe('LossSignal', () => {
  it('keeps nothing of a call once it settled (a race against a pending promise would keep every one)', async () => {
    const loss = new LossSignal();
    for (let i = 0; i < 100; i++) await loss.race(Promise.resolve(i));
    await expect(loss.race(Promise.reject(new Error('fake failure')))).rejects.toThrow('fake failure');
    expect(loss.waiting).toBe(0);
  });

  it('rejects the calls waiting when the worker is lost, and every later call at once', async () => {
    const loss = new LossSignal();
    const waiting = loss.race(new Promise<string>(() => {}));
    expect(loss.waiting).toBe(1);
    const failure = new VoiceAgentError('worker-failed', 'fake loss');
    loss.lose(failure);
    await expect(waiting).rejects.toBe(failure);
    expect(loss.waiting).toBe(0);
    await expect(loss.race(Promise.resolve('too late'))).rejects.toBe(failure);
  });
});
