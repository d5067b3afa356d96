import { describe, expect, it } from 'vitest';
import { VoiceAgentError } from '../platform/errors.ts';
import {
  DEFAULT_VOICE_ID,
  parseVoiceConfig,
  parseVoiceId,
  phonemesToIds,
  voiceUrls,
  type PiperVoiceConfig,
} from './piper-voice.ts';

describe('parseVoiceId / voiceUrls', () => {
  it('maps a voice id onto the rhasspy/piper-voices layout under a model base URL', () => {
    expect(voiceUrls('en_US-joe-medium', 'http://127.0.0.1:4173/models/')).toEqual({
      modelUrl: 'http://127.0.0.1:4173/models/rhasspy/piper-voices/en/en_US/joe/medium/en_US-joe-medium.onnx',
      configUrl: 'http://127.0.0.1:4173/models/rhasspy/piper-voices/en/en_US/joe/medium/en_US-joe-medium.onnx.json',
    });
  });

  it('uses the public hub when no base URL is set', () => {
    expect(voiceUrls('de_DE-thorsten-high').modelUrl).toBe(
      'https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/de/de_DE/thorsten/high/de_DE-thorsten-high.onnx',
    );
  });

  it('handles speakers with underscores and the x_low quality', () => {
    expect(parseVoiceId('en_GB-southern_english_female-low')).toEqual({
      id: 'en_GB-southern_english_female-low',
      family: 'en',
      locale: 'en_GB',
      speaker: 'southern_english_female',
      quality: 'low',
    });
    expect(voiceUrls('en_US-libritts_r-medium', 'https://cdn.example/m').modelUrl).toBe(
      'https://cdn.example/m/rhasspy/piper-voices/en/en_US/libritts_r/medium/en_US-libritts_r-medium.onnx',
    );
    expect(parseVoiceId('zh_CN-huayan-x_low').quality).toBe('x_low');
  });

  it('has a default voice that parses', () => {
    expect(parseVoiceId(DEFAULT_VOICE_ID).id).toBe(DEFAULT_VOICE_ID);
  });

  for (const bad of ['joe', 'en_US-joe', 'en_US-joe-ultra', 'en-US-joe-medium', 'EN_us-joe-medium', 'en_US-joe-medium.onnx', '../x_YY-a-low', '']) {
    it(`rejects ${JSON.stringify(bad)} with a typed voice-invalid error`, () => {
      let caught: unknown;
      try {
        voiceUrls(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(VoiceAgentError);
      expect((caught as VoiceAgentError).code).toBe('voice-invalid');
      expect((caught as VoiceAgentError).message).toContain(`"${bad}"`);
    });
  }
});

/** A FAKE phoneme map (a handful of symbols with made-up ids), not a real voice's. */
const FAKE_MAP: PiperVoiceConfig['phonemeIdMap'] = {
  _: [0],
  '^': [1],
  $: [2],
  ' ': [3],
  '.': [10],
  h: [20],
  a: [14],
  ɪ: [74],
  ˈ: [120],
};

describe('phonemesToIds (with a fake map)', () => {
  it('builds ^ _ p _ p _ … $ per sentence', () => {
    expect(phonemesToIds([['h', 'ˈ', 'a', 'ɪ', '.']], FAKE_MAP)).toEqual({
      ids: [1, 0, 20, 0, 120, 0, 14, 0, 74, 0, 10, 0, 2],
      dropped: [],
    });
  });

  it('wraps every sentence on its own', () => {
    expect(phonemesToIds([['h', 'a'], ['a', 'ɪ']], FAKE_MAP).ids).toEqual([1, 0, 20, 0, 14, 0, 2, 1, 0, 14, 0, 74, 0, 2]);
  });

  it('drops symbols the voice has no id for, and reports them', () => {
    expect(phonemesToIds([['h', 'ʘ', 'a', '🙂']], FAKE_MAP)).toEqual({ ids: [1, 0, 20, 0, 14, 0, 2], dropped: ['ʘ', '🙂'] });
  });

  it('skips sentences with nothing to say, and never passes markers through', () => {
    expect(phonemesToIds([['.', ' '], [], ['^', 'a', '$', '_']], FAKE_MAP)).toEqual({
      ids: [1, 0, 14, 0, 2],
      dropped: ['^', '$'],
    });
  });
});

describe('parseVoiceConfig', () => {
  const valid = {
    audio: { sample_rate: 22050 },
    espeak: { voice: 'en-us' },
    inference: { noise_scale: 0.667, length_scale: 1, noise_w: 0.8 },
    num_speakers: 1,
    phoneme_id_map: FAKE_MAP,
  };

  it('reads rate, espeak voice, scales and map', () => {
    expect(parseVoiceConfig(valid, 'v.onnx.json')).toMatchObject({
      sampleRateHz: 22050,
      espeakVoice: 'en-us',
      noiseScale: 0.667,
      lengthScale: 1,
      noiseW: 0.8,
      numSpeakers: 1,
    });
  });

  it('falls back to Piper defaults for missing scales', () => {
    const { inference: _, ...rest } = valid;
    expect(parseVoiceConfig(rest, 'v.onnx.json')).toMatchObject({ noiseScale: 0.667, lengthScale: 1, noiseW: 0.8 });
  });

  const broken: [string, unknown][] = [
    ['not an object', 'hello'],
    ['no sample rate', { ...valid, audio: {} }],
    ['no espeak voice', { ...valid, espeak: {} }],
    ['no map', { ...valid, phoneme_id_map: undefined }],
    ['ids that are not ids', { ...valid, phoneme_id_map: { ...FAKE_MAP, a: ['x'] } }],
    ['no pad', { ...valid, phoneme_id_map: { '^': [1], $: [2] } }],
  ];
  for (const [what, json] of broken) {
    it(`rejects a config with ${what}, naming the file`, () => {
      expect(() => parseVoiceConfig(json, 'en_US-x-medium.onnx.json')).toThrow(/en_US-x-medium\.onnx\.json/);
      try {
        parseVoiceConfig(json, 'f');
      } catch (error) {
        expect((error as VoiceAgentError).code).toBe('model-load-failed');
      }
    });
  }
});
