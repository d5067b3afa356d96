/**
 * Which Whisper runs where: the device/model ladder, decided from measured capabilities
 * (is there a WebGPU adapter, does it have `shader-f16`), never from the user agent.
 *
 * Pure: the controller measures, this decides, and `capabilities` reports the decision
 * with its reason so a page author can see why their visitor got the small model.
 */
import type { MeasuredCapabilities } from '../platform/model-lifecycle.ts';

/** What the browser offers, as measured (re-exported for the planners' callers). */
export type { MeasuredCapabilities };

export type AsrDevice = 'webgpu' | 'wasm';
export type AsrDevicePreference = 'auto' | AsrDevice;
export const ASR_DEVICE_PREFERENCES: readonly AsrDevicePreference[] = ['auto', 'webgpu', 'wasm'];

export type AsrTask = 'transcribe' | 'translate';
export const ASR_TASKS: readonly AsrTask[] = ['transcribe', 'translate'];

/** A transformers.js dtype for every model file, or one per file (`encoder_model`, `decoder_model_merged`). */
export type AsrDtype = string | Readonly<Record<string, string>>;

/** Author overrides (attributes), already validated. */
export interface AsrPreferences {
  /** A model id, or undefined for the ladder's choice. */
  readonly model?: string;
  readonly device: AsrDevicePreference;
  readonly dtype?: AsrDtype;
  /** `auto` or a language code. */
  readonly language: string;
}

export interface AsrPlan {
  readonly model: string;
  readonly device: AsrDevice;
  readonly dtype: AsrDtype;
  /** Why this plan, in words (shown in `capabilities.asr.reason`). */
  readonly reason: string;
}

/** Whisper large-v3-turbo: the quality choice when a GPU is there. */
export const WEBGPU_MODEL = 'onnx-community/whisper-large-v3-turbo';
/** On the CPU, a small Whisper keeps up with speech on a 2-core laptop. */
export const WASM_MODEL = 'Xenova/whisper-base';
export const WASM_MODEL_ENGLISH = 'Xenova/whisper-base.en';

/**
 * q4 decoder on WebGPU: q8 and fp16 decoders are reported to produce garbage or repeat
 * on WebGPU (PERFORMANCE.md); the encoder takes fp16 when the adapter supports it.
 */
export function webgpuDtype(shaderF16: boolean): AsrDtype {
  return { encoder_model: shaderF16 ? 'fp16' : 'fp32', decoder_model_merged: 'q4' };
}
/** q8 weights: the fastest CPU path with no measurable loss for Whisper. */
export const WASM_DTYPE: AsrDtype = 'q8';

/** True for Whisper checkpoints trained on English only (`*.en`). */
export function isEnglishOnlyModel(model: string): boolean {
  return /\.en$/i.test(model.trim());
}

function isEnglish(language: string): boolean {
  return language.toLowerCase() === 'en' || language.toLowerCase().startsWith('en-');
}

/** Whether any dtype in `dtype` needs `shader-f16` on WebGPU. */
export function needsShaderF16(dtype: AsrDtype): boolean {
  const values = typeof dtype === 'string' ? [dtype] : Object.values(dtype);
  return values.some((value) => value === 'fp16' || value === 'q4f16');
}

/**
 * The ladder: WebGPU adapter (with f16 when the dtype needs it) → large-v3-turbo; else a
 * small Whisper on WASM (`.en` when the language is English). Overrides win, but asking for
 * WebGPU where there is none falls back to WASM with a reason (a visitor's browser is not
 * the author's).
 */
export function planAsr(preferences: AsrPreferences, measured: MeasuredCapabilities): AsrPlan {
  const english = isEnglish(preferences.language);
  const wantsGpu = preferences.device !== 'wasm';
  const gpuDtype = preferences.dtype ?? webgpuDtype(measured.shaderF16);
  const gpuUsable = measured.webgpu && (!needsShaderF16(gpuDtype) || measured.shaderF16);

  if (wantsGpu && gpuUsable) {
    return {
      model: preferences.model ?? WEBGPU_MODEL,
      device: 'webgpu',
      dtype: gpuDtype,
      reason:
        preferences.device === 'webgpu'
          ? 'asr-device="webgpu" and a WebGPU adapter is available'
          : `WebGPU adapter available${measured.shaderF16 ? ' with shader-f16' : ' (no shader-f16: fp32 encoder)'}`,
    };
  }
  const why = !wantsGpu
    ? 'asr-device="wasm"'
    : !measured.webgpu
      ? 'no WebGPU adapter'
      : 'the WebGPU adapter lacks shader-f16, which the requested dtype needs';
  return {
    model: preferences.model ?? (english ? WASM_MODEL_ENGLISH : WASM_MODEL),
    device: 'wasm',
    dtype: preferences.dtype && !wantsGpu ? preferences.dtype : (preferences.dtype ?? WASM_DTYPE),
    reason: preferences.device === 'webgpu' ? `asr-device="webgpu" requested but ${why}; using WASM` : `${why}: WASM`,
  };
}

/** The plan to fall back to when WebGPU failed at load or run time. */
export function wasmFallbackPlan(failed: AsrPlan, preferences: AsrPreferences, cause: string): AsrPlan {
  return {
    // An explicit model is kept (the author chose it); the GPU default is too big for WASM.
    model: preferences.model ?? (isEnglish(preferences.language) ? WASM_MODEL_ENGLISH : WASM_MODEL),
    device: 'wasm',
    dtype: WASM_DTYPE,
    reason: `WebGPU failed (${cause}); fell back to WASM from ${failed.model}`,
  };
}

/**
 * `asr-dtype`: a dtype name, or a JSON object mapping model files to dtypes. Returns
 * undefined (the ladder's choice) and an error message for anything else.
 */
export function parseDtype(value: string | undefined): { dtype?: AsrDtype; error?: string } {
  const text = value?.trim();
  if (!text) return {};
  if (!text.startsWith('{')) {
    return /^[a-z0-9_]+$/i.test(text) ? { dtype: text } : { error: `asr-dtype="${text}" is not a dtype name or JSON map` };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      parsed &&
      typeof parsed === 'object' &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((v) => typeof v === 'string')
    ) {
      return { dtype: parsed as Record<string, string> };
    }
  } catch {
    // fall through
  }
  return { error: `asr-dtype='${text}' is not a JSON object of file → dtype strings` };
}
