import ortAsyncifyMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortAsyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { ModelRuntimeConfig } from './protocol.ts';
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
