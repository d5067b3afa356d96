import { describe, expect, it } from 'vitest';
import { fileNameOf, isOutOfMemory } from './worker-utils.ts';

describe('fileNameOf', () => {
  it('names the file of an absolute URL or a bare path (transformers.js cache keys)', () => {
    expect(fileNameOf('https://h/models/x/onnx/encoder.onnx?download=1')).toBe('encoder.onnx');
    expect(fileNameOf('/models/Xenova/whisper-tiny.en/onnx/encoder_model_quantized.onnx')).toBe('encoder_model_quantized.onnx');
  });
});

describe('isOutOfMemory', () => {
  it('recognizes the ways browsers and ONNX Runtime say memory ran out', () => {
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
    // What ONNX Runtime said when its heap could not grow for Whisper's decoder (out-of-memory.spec).
    expect(isOutOfMemory(new Error("Can't create a session. failed to allocate a buffer of size 49890678."))).toBe(true);
    expect(isOutOfMemory(new Error("Can't create a session. ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc"))).toBe(true);
    expect(isOutOfMemory(new Error('Aborted(OOM). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isOutOfMemory(Object.assign(new Error('no room'), { name: 'GPUOutOfMemoryError' }))).toBe(true);
    expect(isOutOfMemory('WebAssembly.Memory.grow(): Maximum memory size exceeded')).toBe(true);
  });

  it('leaves other failures alone (a damaged file must still be dropped and fetched again)', () => {
    expect(isOutOfMemory(new Error('Failed to load model because protobuf parsing failed.'))).toBe(false);
    expect(isOutOfMemory(new Error('Could not locate file: "onnx/encoder_model_quantized.onnx"'))).toBe(false);
    expect(isOutOfMemory(new Error('room for improvement: zoom out'))).toBe(false);
    expect(isOutOfMemory(null)).toBe(false);
  });
});
