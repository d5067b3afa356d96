import { describe, expect, it } from 'vitest';
import {
  WASM_MODEL,
  WASM_MODEL_ENGLISH,
  WEBGPU_MODEL,
  englishOnlyMismatch,
  isEnglishOnlyModel,
  needsShaderF16,
  parseDtype,
  planAsr,
  wasmFallbackPlan,
  type MeasuredCapabilities,
} from './asr-plan.ts';
import { acceptTranscript, normalizeText, stripAnnotations } from './transcript-filter.ts';

const noGpu: MeasuredCapabilities = { webgpu: false, shaderF16: false, crossOriginIsolated: true, cores: 2 };
const gpu: MeasuredCapabilities = { webgpu: true, shaderF16: false, crossOriginIsolated: true, cores: 8 };
const gpuF16: MeasuredCapabilities = { ...gpu, shaderF16: true };

describe('planAsr', () => {
  it('takes large-v3-turbo on WebGPU, fp16 encoder only with shader-f16, q4 decoder', () => {
    expect(planAsr({ device: 'auto', language: 'en' }, gpuF16)).toMatchObject({
      model: WEBGPU_MODEL,
      device: 'webgpu',
      dtype: { encoder_model: 'fp16', decoder_model_merged: 'q4' },
    });
    expect(planAsr({ device: 'auto', language: 'auto' }, gpu)).toMatchObject({
      device: 'webgpu',
      dtype: { encoder_model: 'fp32', decoder_model_merged: 'q4' },
    });
  });

  it('on WASM: Moonshine for English, multilingual Whisper for another language, auto or translation', () => {
    expect(planAsr({ device: 'auto', language: 'en' }, noGpu)).toMatchObject({
      model: WASM_MODEL_ENGLISH,
      device: 'wasm',
      dtype: 'q8',
    });
    expect(WASM_MODEL_ENGLISH).toMatch(/moonshine/i);
    expect(planAsr({ device: 'auto', language: 'en-GB' }, noGpu).model).toBe(WASM_MODEL_ENGLISH);
    expect(planAsr({ device: 'auto', language: 'auto' }, noGpu).model).toBe(WASM_MODEL);
    expect(planAsr({ device: 'auto', language: 'fr' }, noGpu).model).toBe(WASM_MODEL);
    expect(planAsr({ device: 'auto', language: 'en', task: 'translate' }, noGpu).model).toBe(WASM_MODEL);
    expect(planAsr({ device: 'auto', language: 'en' }, noGpu).reason).toMatch(/no WebGPU adapter: WASM, Moonshine/);
    expect(planAsr({ device: 'auto', language: 'de' }, noGpu).reason).toMatch(/multilingual Whisper/);
  });

  it('keeps a Moonshine model on WASM even where WebGPU is there', () => {
    const plan = planAsr({ device: 'auto', language: 'en', model: 'moonshine-ai/moonshine-tiny-en' }, gpuF16);
    expect(plan).toMatchObject({ model: 'moonshine-ai/moonshine-tiny-en', device: 'wasm', dtype: 'q8' });
    expect(plan.reason).toMatch(/Moonshine runs on the CPU only/);
  });

  it('names an English-only model asked for another language, auto or translation', () => {
    expect(englishOnlyMismatch('Xenova/whisper-tiny.en', 'de', 'transcribe')).toMatch(/English only.*language="de"/);
    expect(englishOnlyMismatch('moonshine-ai/moonshine-tiny-en', 'auto', 'transcribe')).toMatch(/language="auto"/);
    expect(englishOnlyMismatch('Xenova/whisper-tiny.en', 'en', 'translate')).toMatch(/task="translate"/);
    expect(englishOnlyMismatch('Xenova/whisper-tiny.en', 'en', 'transcribe')).toBeUndefined();
    expect(englishOnlyMismatch('Xenova/whisper-base', 'de', 'transcribe')).toBeUndefined();
    expect(englishOnlyMismatch(undefined, 'de', 'transcribe')).toBeUndefined();
  });

  it('honours overrides, but never puts a request for WebGPU on a browser without it', () => {
    expect(planAsr({ device: 'wasm', language: 'en' }, gpuF16).device).toBe('wasm');
    const asked = planAsr({ device: 'webgpu', language: 'en', model: 'Xenova/whisper-tiny.en' }, noGpu);
    expect(asked).toMatchObject({ device: 'wasm', model: 'Xenova/whisper-tiny.en' });
    expect(asked.reason).toMatch(/requested but no WebGPU adapter/);
    // An fp16 dtype needs shader-f16: without it, WASM.
    expect(planAsr({ device: 'auto', language: 'en', dtype: 'fp16' }, gpu).device).toBe('wasm');
    expect(planAsr({ device: 'auto', language: 'en', dtype: 'fp16' }, gpuF16).device).toBe('webgpu');
  });

  it('falls back to WASM after a WebGPU failure, keeping an explicit model', () => {
    const failed = planAsr({ device: 'webgpu', language: 'en', model: 'Xenova/whisper-tiny.en' }, gpu);
    const fallback = wasmFallbackPlan(failed, { device: 'webgpu', language: 'en', model: 'Xenova/whisper-tiny.en' }, 'lost');
    expect(fallback).toMatchObject({ device: 'wasm', model: 'Xenova/whisper-tiny.en', dtype: 'q8' });
    expect(fallback.reason).toMatch(/WebGPU failed \(lost\)/);
  });

  it('knows English-only checkpoints and f16 dtypes', () => {
    expect(isEnglishOnlyModel('Xenova/whisper-tiny.en')).toBe(true);
    expect(isEnglishOnlyModel('onnx-community/whisper-large-v3-turbo')).toBe(false);
    expect(isEnglishOnlyModel('onnx-community/moonshine-tiny-ONNX')).toBe(true);
    expect(isEnglishOnlyModel('moonshine-ai/moonshine-tiny-en')).toBe(true);
    expect(isEnglishOnlyModel('UsefulSensors/moonshine-base')).toBe(true);
    expect(isEnglishOnlyModel('onnx-community/moonshine-tiny-ja-ONNX')).toBe(false);
    expect(isEnglishOnlyModel('moonshine-ai/moonshine-base-ar')).toBe(false);
    expect(needsShaderF16({ encoder_model: 'fp16', decoder_model_merged: 'q4' })).toBe(true);
    expect(needsShaderF16('q8')).toBe(false);
  });

  it('parses asr-dtype as a name or a JSON map, and rejects anything else', () => {
    expect(parseDtype('q8')).toEqual({ dtype: 'q8' });
    expect(parseDtype('{"encoder_model":"fp32","decoder_model_merged":"q8"}')).toEqual({
      dtype: { encoder_model: 'fp32', decoder_model_merged: 'q8' },
    });
    expect(parseDtype('')).toEqual({});
    expect(parseDtype('{"encoder_model": 3}').error).toMatch(/JSON object/);
    expect(parseDtype('{oops').error).toMatch(/JSON object/);
    expect(parseDtype('q 8').error).toMatch(/not a dtype/);
  });
});

describe('transcript filter', () => {
  it('normalizes case, punctuation and curly apostrophes', () => {
    expect(normalizeText('  Ask not — what YOUR country can do, for you!')).toBe('ask not what your country can do for you');
    expect(normalizeText('It’s "fine".')).toBe("it's fine");
  });

  it('drops annotations and stock phrases on short turns, keeps real speech', () => {
    const short = { speechMs: 600, rms: 0.05 };
    expect(acceptTranscript(' [BLANK_AUDIO]', short)).toBe('');
    expect(acceptTranscript('(upbeat music)', short)).toBe('');
    expect(acceptTranscript(' Thank you.', short)).toBe('');
    expect(acceptTranscript(' you', short)).toBe('');
    // The same words after plenty of confirmed speech are believed.
    expect(acceptTranscript(' Thank you.', { speechMs: 2500, rms: 0.05 })).toBe('Thank you.');
    expect(acceptTranscript(' Turn left at the lights.', short)).toBe('Turn left at the lights.');
    // A near-silent turn transcribes to nothing, whatever Whisper wrote.
    expect(acceptTranscript(' Turn left.', { speechMs: 2500, rms: 0.0005 })).toBe('');
    expect(stripAnnotations('Hello [MUSIC] there')).toBe('Hello there');
  });
});
