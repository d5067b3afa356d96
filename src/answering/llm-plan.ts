/**
 * Where the on-device LLM (`local-llm`) runs, and with which weights.
 *
 * | browser                              | device   | dtype    |
 * |--------------------------------------|----------|----------|
 * | WebGPU adapter with `shader-f16`     | `webgpu` | `q4f16`  |
 * | WebGPU adapter without `shader-f16`  | `webgpu` | `q4`     |
 * | no WebGPU adapter (or `wasm` asked)  | `wasm`   | `q8`     |
 *
 * 4-bit weights are what makes a 360M–1.7B chat model fit a browser tab's GPU memory and
 * download; `q4` keeps fp32 activations, so it runs where fp16 shaders are missing. On
 * the CPU, q8 is onnxruntime-web's fastest well-supported path (its 4-bit MatMul kernels
 * are slower on WASM). `local-llm-dtype` overrides the dtype on either device (the model
 * repository must hold that file, e.g. `onnx/model_q4f16.onnx`).
 */
import type { MeasuredCapabilities } from '../platform/model-lifecycle.ts';
import type { NumberOptionSpec } from '../platform/options.ts';

export type LlmDevice = 'webgpu' | 'wasm';
export type LlmDevicePreference = 'auto' | LlmDevice;
export const LLM_DEVICE_PREFERENCES: readonly LlmDevicePreference[] = ['auto', 'webgpu', 'wasm'];

/** A small instruction-tuned model that answers sensibly in a browser tab (~400 MB at q8, ~270 MB at q4f16). */
export const RECOMMENDED_LOCAL_LLM = 'HuggingFaceTB/SmolLM2-360M-Instruct';
/** Longest reply, in new tokens, unless `local-llm-max-tokens` says otherwise (a spoken answer is short). */
export const DEFAULT_MAX_NEW_TOKENS = 256;
export const WASM_LLM_DTYPE = 'q8';

/** Author choices (attributes), already validated. */
export interface LlmPreferences {
  readonly model: string;
  readonly device: LlmDevicePreference;
  /** Unset: the ladder's choice for the device. */
  readonly dtype?: string;
}

export interface LlmPlan {
  readonly model: string;
  readonly device: LlmDevice;
  readonly dtype: string;
  /** Why, in words (debug records). */
  readonly reason: string;
}

export function planLocalLlm(preferences: LlmPreferences, measured: MeasuredCapabilities): LlmPlan {
  const { model, device, dtype } = preferences;
  if (device !== 'wasm' && measured.webgpu) {
    const fp16 = measured.shaderF16;
    return {
      model,
      device: 'webgpu',
      dtype: dtype ?? (fp16 ? 'q4f16' : 'q4'),
      reason: `WebGPU adapter available${fp16 ? ' with shader-f16' : ' (no shader-f16: fp32 activations)'}`,
    };
  }
  const why = device === 'wasm' ? 'local-llm-device="wasm"' : 'no WebGPU adapter';
  return {
    model,
    device: 'wasm',
    dtype: dtype ?? WASM_LLM_DTYPE,
    reason: device === 'webgpu' ? `local-llm-device="webgpu" requested but ${why}; using WASM` : `${why}: WASM`,
  };
}

/** The plan to fall back to when loading on WebGPU failed (an explicit dtype is kept). */
export function wasmFallbackLlmPlan(failed: LlmPlan, preferences: LlmPreferences, cause: string): LlmPlan {
  return {
    model: failed.model,
    device: 'wasm',
    dtype: preferences.dtype ?? WASM_LLM_DTYPE,
    reason: `WebGPU failed (${cause}); fell back to WASM`,
  };
}

/** `local-llm-max-tokens`: the longest reply, in new tokens. */
export const LOCAL_LLM_MAX_TOKENS: NumberOptionSpec = {
  attribute: 'local-llm-max-tokens',
  min: 1,
  max: 4096,
  defaultValue: DEFAULT_MAX_NEW_TOKENS,
};
