/**
 * Which recognizer runs where: the device/model ladder, decided from measured capabilities
 * (is there a WebGPU adapter, does it have `shader-f16`) and the language, never from the
 * user agent.
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
  /** `translate` needs a multilingual model (default `transcribe`). */
  readonly task?: AsrTask;
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
/**
 * On the CPU, for other languages, language detection and translation: multilingual
 * Whisper base. Its encoder always processes a 30 s window, so every call costs ~1–2 s.
 */
export const WASM_MODEL = 'Xenova/whisper-base';
/**
 * On the CPU, in English: Moonshine tiny, whose cost follows the audio (a 3.5 s turn in
 * ~0.25 s on one thread, against ~2.2 s for Whisper tiny.en) with a lower word error rate
 * (5.7 % vs 9.0 % on the same clips: see the models README). English only, WASM only.
 */
export const WASM_MODEL_ENGLISH = 'onnx-community/moonshine-tiny-ONNX';

/**
 * q4 decoder on WebGPU: q8 and fp16 decoders are reported to produce garbage or repeat
 * on WebGPU (PERFORMANCE.md); the encoder takes fp16 when the adapter supports it.
 */
export function webgpuDtype(shaderF16: boolean): AsrDtype {
  return { encoder_model: shaderF16 ? 'fp16' : 'fp32', decoder_model_merged: 'q4' };
}
/** q8 weights: the fastest CPU path with no measurable loss for Whisper. */
export const WASM_DTYPE: AsrDtype = 'q8';

/**
 * True for checkpoints that know English only: Whisper's `*.en`, and Moonshine's English
 * models (its other models carry a language suffix: `moonshine-tiny-ja`, `-ar`, …).
 */
export function isEnglishOnlyModel(model: string): boolean {
  const id = model.trim();
  if (/\.en$/i.test(id)) return true;
  return /moonshine/i.test(id) && !/moonshine-(tiny|base)-(?!en\b)[a-z]{2}\b/i.test(id);
}

/** True for Moonshine checkpoints (CPU only: their int8 operators have no WebGPU kernels). */
export function isMoonshineModel(model: string): boolean {
  return /moonshine/i.test(model);
}

export function isEnglish(language: string): boolean {
  return language.toLowerCase() === 'en' || language.toLowerCase().startsWith('en-');
}

/** Whether the turn needs a model that knows other languages: not English, `auto`, or translation. */
export function needsMultilingual(language: string, task: AsrTask = 'transcribe'): boolean {
  return !isEnglish(language) || task === 'translate';
}

/**
 * An English-only `asr-model` where another language (or `auto`, or translation) is asked
 * for: the message to warn with, or undefined when the model fits. The caller then drops
 * the model for the ladder's multilingual one — never silently wrong text.
 */
export function englishOnlyMismatch(model: string | undefined, language: string, task: AsrTask): string | undefined {
  if (!model || !isEnglishOnlyModel(model) || !needsMultilingual(language, task)) return undefined;
  const asked = task === 'translate' ? 'task="translate"' : `language="${language}"`;
  return `asr-model="${model}" knows English only, but ${asked} needs a multilingual model; using the default multilingual model instead.`;
}

/** Whether any dtype in `dtype` needs `shader-f16` on WebGPU. */
export function needsShaderF16(dtype: AsrDtype): boolean {
  const values = typeof dtype === 'string' ? [dtype] : Object.values(dtype);
  return values.some((value) => value === 'fp16' || value === 'q4f16');
}

/**
 * The ladder: WebGPU adapter (with f16 when the dtype needs it) → large-v3-turbo; else, on
 * WASM, Moonshine tiny for English and multilingual Whisper base for anything else
 * (another language, `auto`, translation). Overrides win, but asking for WebGPU where there
 * is none falls back to WASM with a reason (a visitor's browser is not the author's), and a
 * Moonshine model always runs on WASM.
 */
export function planAsr(preferences: AsrPreferences, measured: MeasuredCapabilities): AsrPlan {
  const multilingual = needsMultilingual(preferences.language, preferences.task);
  const cpuOnlyModel = preferences.model !== undefined && isMoonshineModel(preferences.model);
  const wantsGpu = preferences.device !== 'wasm' && !cpuOnlyModel;
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
  const why = cpuOnlyModel
    ? 'Moonshine runs on the CPU only'
    : !wantsGpu
      ? 'asr-device="wasm"'
      : !measured.webgpu
      ? 'no WebGPU adapter'
        : 'the WebGPU adapter lacks shader-f16, which the requested dtype needs';
  const model = preferences.model ?? wasmModelFor(multilingual);
  const which = preferences.model ? '' : multilingual ? ', multilingual Whisper (language not English, auto, or translate)' : ', Moonshine (English)';
  return {
    model,
    device: 'wasm',
    dtype: preferences.dtype && !wantsGpu ? preferences.dtype : (preferences.dtype ?? WASM_DTYPE),
    reason: preferences.device === 'webgpu' ? `asr-device="webgpu" requested but ${why}; using WASM${which}` : `${why}: WASM${which}`,
  };
}

function wasmModelFor(multilingual: boolean): string {
  return multilingual ? WASM_MODEL : WASM_MODEL_ENGLISH;
}

/** The plan to fall back to when WebGPU failed at load or run time. */
export function wasmFallbackPlan(failed: AsrPlan, preferences: AsrPreferences, cause: string): AsrPlan {
  return {
    // An explicit model is kept (the author chose it); the GPU default is too big for WASM.
    model: preferences.model ?? wasmModelFor(needsMultilingual(preferences.language, preferences.task)),
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
