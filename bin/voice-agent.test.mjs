// The models command against the real model folder (../shared/models): what it copies,
// the manifest's sizes and SHA-256s (recomputed here), verification, and its errors.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MANIFEST_NAME, assemble, hasSuffix, parseArgs, planFiles, verify, voiceFiles } from './voice-agent.mjs';

const SHARED_MODELS = fileURLToPath(new URL('../../shared/models/', import.meta.url));
const BIN = fileURLToPath(new URL('./voice-agent.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'voice-agent-models-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256Of = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('planning', () => {
  it('names a voice by the rhasspy/piper-voices layout and refuses a non-id', () => {
    expect(voiceFiles('en_US-joe-medium')).toEqual([
      'rhasspy/piper-voices/en/en_US/joe/medium/en_US-joe-medium.onnx',
      'rhasspy/piper-voices/en/en_US/joe/medium/en_US-joe-medium.onnx.json',
    ]);
    expect(() => voiceFiles('joe')).toThrow(/not a Piper voice id/);
  });
  it('takes the weights of the asked dtype only', () => {
    expect(hasSuffix('encoder_model_quantized.onnx', '_quantized')).toBe(true);
    expect(hasSuffix('encoder_model.onnx', '')).toBe(true);
    expect(hasSuffix('encoder_model_quantized.onnx', '')).toBe(false);
    expect(hasSuffix('encoder_model_fp16.onnx', '_quantized')).toBe(false);
    expect(() => planFiles({ dtype: 'q3' })).toThrow(/Unknown dtype/);
  });
  it('parses the command line, with the defaults and its errors', () => {
    expect(parseArgs(['--out', 'x']).voice).toBe('en_US-joe-medium');
    expect(parseArgs(['--out', 'x', '--voice', 'none', '--asr', 'a/b', '--smart-turn'])).toMatchObject({ voice: '', asr: ['a/b'], smartTurn: true, from: 'hub' });
    expect(() => parseArgs([])).toThrow(/--out/);
    expect(() => parseArgs(['--out', 'x', '--bogus'])).toThrow(/Unknown option --bogus/);
    expect(() => parseArgs(['--out', '--asr'])).toThrow(/--out needs a value/);
  });
});

describe('assembling from a local folder', () => {
  const out = join(scratch, 'assembled');
  const plan = planFiles({ asr: ['moonshine-ai/moonshine-tiny-en'], llm: ['test/tiny-random-smollm2'], voice: '', smartTurn: true });

  it('copies what the configuration needs, with a manifest of sizes and SHA-256s', async () => {
    const manifest = await assemble({ from: SHARED_MODELS, out, plan });
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'moonshine-ai/moonshine-tiny-en/config.json',
        'moonshine-ai/moonshine-tiny-en/tokenizer.json',
        'moonshine-ai/moonshine-tiny-en/onnx/encoder_model_quantized.onnx',
        'moonshine-ai/moonshine-tiny-en/onnx/decoder_model_merged_quantized.onnx',
        'test/tiny-random-smollm2/onnx/model_quantized.onnx',
        'pipecat-ai/smart-turn-v3/smart-turn-v3.2-cpu.onnx',
      ]),
    );
    for (const file of manifest.files) {
      const source = join(SHARED_MODELS, file.path);
      expect(file.bytes, file.path).toBe(statSync(source).size);
      expect(file.sha256, file.path).toBe(sha256Of(source));
    }
    expect(JSON.parse(readFileSync(join(out, MANIFEST_NAME), 'utf8'))).toEqual(manifest);
    expect(await verify(out, manifest)).toEqual([]);
  });

  it('verification names a damaged file', async () => {
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST_NAME), 'utf8'));
    const damaged = 'moonshine-ai/moonshine-tiny-en/config.json';
    writeFileSync(join(out, damaged), readFileSync(join(out, damaged), 'utf8').replace('{', '['));
    expect(await verify(out, manifest)).toEqual([damaged]);
  });

  it('a model the folder does not have fails naming it, and writes no manifest', async () => {
    const elsewhere = join(scratch, 'missing');
    await expect(assemble({ from: SHARED_MODELS, out: elsewhere, plan: planFiles({ asr: ['nobody/nothing'], voice: '' }) })).rejects.toThrow(/nobody\/nothing\/config\.json/);
    expect(() => statSync(join(elsewhere, MANIFEST_NAME))).toThrow();
  });

  it('runs as a command: assemble, then --verify', () => {
    const folder = join(scratch, 'cli');
    const printed = execFileSync('node', [BIN, 'models', '--out', folder, '--from', SHARED_MODELS, '--asr', 'Xenova/whisper-tiny.en', '--voice', 'none'], { encoding: 'utf8' });
    expect(printed).toMatch(/Xenova\/whisper-tiny\.en\/onnx\/encoder_model_quantized\.onnx/);
    expect(printed).not.toMatch(/encoder_model\.onnx /); // fp32 weights not taken for q8
    expect(execFileSync('node', [BIN, 'models', '--out', folder, '--verify'], { encoding: 'utf8' })).toMatch(/(\d+) of \1 files match/);
  });
});
