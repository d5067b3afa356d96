import { describe, expect, it } from 'vitest';
import { MODEL_CACHE_NAME, TRANSFORMERS_CACHE_NAME, clearModelCache, listCachedModels, modelOfUrl, type CacheStorageLike } from './model-cache.ts';

describe('modelOfUrl', () => {
  it('names transformers.js files by model id, in the hub and the model-base-url layouts', () => {
    expect(modelOfUrl('https://huggingface.co/Xenova/whisper-tiny.en/resolve/main/onnx/encoder_model_quantized.onnx', TRANSFORMERS_CACHE_NAME)).toBe('Xenova/whisper-tiny.en');
    expect(modelOfUrl('http://localhost:4173/models/Xenova/whisper-tiny.en/onnx/decoder_model_merged_quantized.onnx', TRANSFORMERS_CACHE_NAME)).toBe('Xenova/whisper-tiny.en');
    expect(modelOfUrl('http://localhost:4173/models/Xenova/whisper-tiny.en/tokenizer.json', TRANSFORMERS_CACHE_NAME)).toBe('Xenova/whisper-tiny.en');
  });
  it("names the element's own files by file name without extensions", () => {
    expect(modelOfUrl('https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/en/en_US/joe/medium/en_US-joe-medium.onnx.json', MODEL_CACHE_NAME)).toBe('en_US-joe-medium');
    expect(modelOfUrl('http://localhost/models/silero_vad.onnx', MODEL_CACHE_NAME)).toBe('silero_vad');
  });
});

/** A fake Cache Storage: buckets of URL → body, answering like the browser's. */
function fakeStorage(buckets: Record<string, Record<string, { body: string; headers?: Record<string, string> }>>): CacheStorageLike {
  return {
    has: async (name) => name in buckets,
    open: async (name) => {
      const bucket = (buckets[name] ??= {});
      return {
        keys: async () => Object.keys(bucket).map((url) => new Request(url)),
        match: async (request: RequestInfo | URL) => {
          const entry = bucket[typeof request === 'string' ? request : (request as Request).url];
          return entry && new Response(entry.body, { headers: entry.headers ?? {} });
        },
        delete: async (request: RequestInfo | URL) => delete bucket[typeof request === 'string' ? request : (request as Request).url],
      } as unknown as Cache;
    },
  };
}

const WHISPER = 'http://h/models/Xenova/whisper-tiny.en';

describe('listCachedModels and clearModelCache (fake Cache Storage)', () => {
  const buckets = () => ({
    [TRANSFORMERS_CACHE_NAME]: {
      [`${WHISPER}/config.json`]: { body: '{}' },
      [`${WHISPER}/onnx/encoder_model_quantized.onnx`]: { body: 'x'.repeat(100), headers: { 'content-length': '100' } },
    },
    [MODEL_CACHE_NAME]: {
      'http://h/models/silero_vad.onnx': { body: 'y'.repeat(50), headers: { 'x-voice-agent-bytes': '50' } },
    },
  });

  it('groups files per model with their bytes, largest first', async () => {
    const models = await listCachedModels(fakeStorage(buckets()));
    expect(models).toEqual([
      { model: 'Xenova/whisper-tiny.en', cache: TRANSFORMERS_CACHE_NAME, urls: [`${WHISPER}/config.json`, `${WHISPER}/onnx/encoder_model_quantized.onnx`], bytes: 102 },
      { model: 'silero_vad', cache: MODEL_CACHE_NAME, urls: ['http://h/models/silero_vad.onnx'], bytes: 50 },
    ]);
  });

  it('clears one model, then everything; an absent bucket is not created', async () => {
    const storage = fakeStorage(buckets());
    expect(await clearModelCache('silero_vad', storage)).toBe(1);
    expect((await listCachedModels(storage)).map((m) => m.model)).toEqual(['Xenova/whisper-tiny.en']);
    expect(await clearModelCache(undefined, storage)).toBe(2);
    expect(await listCachedModels(storage)).toEqual([]);
    const empty = fakeStorage({});
    expect(await listCachedModels(empty)).toEqual([]);
    expect(await empty.has(MODEL_CACHE_NAME)).toBe(false);
  });

  it('is empty where there is no Cache Storage', async () => {
    expect(await listCachedModels(undefined)).toEqual([]);
    expect(await clearModelCache(undefined, undefined)).toBe(0);
  });
});
