/**
 * The ASR benchmark's baseline, built and served by bench/asr.ts only: the bare
 * transformers.js `automatic-speech-recognition` pipeline with the same model and dtype
 * as the element under test, called once on each whole clip. The only settings changed
 * from transformers.js' defaults are the ones an offline page must change: model files
 * and onnxruntime's wasm come from this origin instead of the hub and a CDN.
 */
import { env, pipeline, type AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';

env.allowLocalModels = false;
env.remoteHost = new URL('/models/', location.href).href;
env.remotePathTemplate = '{model}/';
env.backends.onnx.wasm!.wasmPaths = { mjs: new URL(mjs, location.href).href, wasm: new URL(wasm, location.href).href };

let asr: AutomaticSpeechRecognitionPipeline | null = null;

Object.assign(window, {
  async loadBaseline(model: string, dtype: string): Promise<number> {
    const started = performance.now();
    asr = (await pipeline('automatic-speech-recognition', model, { device: 'wasm', dtype: dtype as never })) as AutomaticSpeechRecognitionPipeline;
    return performance.now() - started;
  },
  async transcribeBaseline(samples: number[]): Promise<{ text: string; ms: number }> {
    const audio = Float32Array.from(samples);
    const started = performance.now();
    const output = await asr!(audio);
    const text = Array.isArray(output) ? (output[0]?.text ?? '') : output.text;
    return { text, ms: performance.now() - started };
  },
});
document.title = 'ready';
