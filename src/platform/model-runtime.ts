import ortAsyncifyMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortAsyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import * as Comlink from 'comlink';
import type { FileProgress, ModelRuntimeConfig } from './protocol.ts';
import { absoluteUrl } from './worker-handle.ts';

/**
 * The runtime part of a transformers.js worker's load config: model files from
 * `modelBaseUrl`, onnxruntime's asyncify build (WebGPU and WASM) from our own origin, and
 * up to `maxThreads` wasm threads when the page is cross-origin isolated (threads need it).
 */
export function modelRuntime(modelBaseUrl: string | undefined, maxThreads: number): ModelRuntimeConfig {
  return {
    modelBaseUrl,
    ortWasm: { mjs: absoluteUrl(ortAsyncifyMjsUrl), wasm: absoluteUrl(ortAsyncifyWasmUrl) },
    threads: crossOriginIsolated ? Math.max(1, Math.min(maxThreads, navigator.hardwareConcurrency || 1)) : 1,
  };
}

/** What a transformers.js worker (ASR, local LLM) loads: a plan's model, device and dtype, and the runtime. */
interface TransformersLoadConfig<Dtype> extends ModelRuntimeConfig {
  readonly model: string;
  readonly device: 'webgpu' | 'wasm';
  readonly dtype: Dtype;
}

/**
 * Loads a plan into a transformers.js worker (a `ModelLifecycle`'s `load`): the plan's
 * model, device and dtype with {@link modelRuntime}, byte progress proxied back.
 */
export function loadTransformersPlan<Dtype>(
  api: {
    load(config: TransformersLoadConfig<Dtype>, onProgress: ((progress: FileProgress) => void) & Comlink.ProxyMarked): Promise<void>;
  },
  plan: { readonly model: string; readonly device: 'webgpu' | 'wasm'; readonly dtype: Dtype },
  modelBaseUrl: string | undefined,
  maxThreads: number,
  onProgress: (progress: FileProgress) => void,
): Promise<void> {
  const { model, device, dtype } = plan;
  return api.load({ model, device, dtype, ...modelRuntime(modelBaseUrl, maxThreads) }, Comlink.proxy(onProgress));
}
