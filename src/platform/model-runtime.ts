import ortAsyncifyMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortAsyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import * as Comlink from 'comlink';
import { MODEL_HUB_URL, assertLocalOnly, type PlannedRequest } from './local-only.ts';
import type { FileProgress, ModelRuntimeConfig } from './protocol.ts';
import { absoluteUrl } from './worker-handle.ts';

/**
 * The runtime part of a transformers.js worker's load config: model files from
 * `modelBaseUrl`, onnxruntime's asyncify build (WebGPU and WASM) from our own origin, and
 * up to `maxThreads` wasm threads when the page is cross-origin isolated (threads need it).
 */
export function modelRuntime(modelBaseUrl: string | undefined, maxThreads: number, localOnly = false): ModelRuntimeConfig {
  return {
    modelBaseUrl,
    ortWasm: { mjs: absoluteUrl(ortAsyncifyMjsUrl), wasm: absoluteUrl(ortAsyncifyWasmUrl) },
    threads: crossOriginIsolated ? Math.max(1, Math.min(maxThreads, navigator.hardwareConcurrency || 1)) : 1,
    ...(localOnly ? { localOnly } : {}),
  };
}

/**
 * What a transformers.js worker will fetch for `model`: its files (from `model-base-url`,
 * else the hub) and onnxruntime's runtime (next to the element's own script).
 */
export function transformersRequests(model: string, runtime: ModelRuntimeConfig): PlannedRequest[] {
  const what = `the model ${model}`;
  return [
    {
      attribute: 'model-base-url',
      url: runtime.modelBaseUrl ? `${runtime.modelBaseUrl}/${model}/` : `${MODEL_HUB_URL}${model}/`,
      what,
    },
    { attribute: "the element's script URL", url: runtime.ortWasm.mjs, what: 'the onnxruntime runtime' },
    { attribute: "the element's script URL", url: runtime.ortWasm.wasm, what: 'the onnxruntime runtime' },
  ];
}

/** What a transformers.js worker (ASR, local LLM) loads: a plan's model, device and dtype, and the runtime. */
interface TransformersLoadConfig<Dtype> extends ModelRuntimeConfig {
  readonly model: string;
  readonly device: 'webgpu' | 'wasm';
  readonly dtype: Dtype;
}

/**
 * Loads a plan into a transformers.js worker (a `ModelLifecycle`'s `load`): the plan's
 * model, device and dtype with {@link modelRuntime}, byte progress proxied back. With
 * `localOnly`, a file off the page's origin fails with `local-only-violation` first.
 */
export function loadTransformersPlan<Dtype>(
  api: {
    load(config: TransformersLoadConfig<Dtype>, onProgress: ((progress: FileProgress) => void) & Comlink.ProxyMarked): Promise<void>;
  },
  plan: { readonly model: string; readonly device: 'webgpu' | 'wasm'; readonly dtype: Dtype },
  modelBaseUrl: string | undefined,
  maxThreads: number,
  onProgress: (progress: FileProgress) => void,
  localOnly = false,
): Promise<void> {
  const { model, device, dtype } = plan;
  const runtime = modelRuntime(modelBaseUrl, maxThreads, localOnly);
  // Checked before the worker is asked: a violation is never fetched, not even once.
  assertLocalOnly(localOnly, transformersRequests(model, runtime));
  return api.load({ model, device, dtype, ...runtime }, Comlink.proxy(onProgress));
}
