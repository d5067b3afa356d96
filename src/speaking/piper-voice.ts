/**
 * Piper voices: where a voice id's files live, what their config says, and how a
 * phonemizer's output becomes the model's input ids.
 *
 * A Piper voice is two files: `<id>.onnx` (a VITS model) and `<id>.onnx.json` (sample
 * rate, espeak language, `phoneme_id_map`, default `inference` scales). The model's input
 * is one id per phoneme with the pad id (`_`) after each, wrapped in `^` … `$` per
 * sentence — exactly what piper-phonemize produces natively, rebuilt here from phoneme
 * symbols so that any {@link Phonemizer} can feed any voice.
 *
 * DOM-free and unit-tested (`piper-voice.test.ts`).
 */
import { VoiceAgentError } from '../platform/errors.ts';

/** The voice used when the `voice` attribute is not set. */
export const DEFAULT_VOICE_ID = 'en_US-joe-medium';

/**
 * Where Piper voices are downloaded from when no `model-base-url` is set: the repository's
 * `v1.0.0` tag, not the moving `main` branch, so a voice's files (and the bytes cached
 * for it) cannot change under a deployed page.
 */
export const PIPER_VOICES_HUB = 'https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0';

/** The repository folder of the voices under a `model-base-url` (Hugging Face layout). */
export const PIPER_VOICES_REPO = 'rhasspy/piper-voices';

export const PIPER_QUALITIES = ['x_low', 'low', 'medium', 'high'] as const;
export type PiperQuality = (typeof PIPER_QUALITIES)[number];

/** The parts of a voice id such as `en_US-joe-medium`. */
export interface PiperVoiceId {
  readonly id: string;
  /** Language family, the folder above the locale: `en`. */
  readonly family: string;
  /** `en_US`. */
  readonly locale: string;
  /** `joe`, `lessac`, `libritts_r`, `southern_english_female`… */
  readonly speaker: string;
  readonly quality: PiperQuality;
}

const VOICE_ID = /^([a-z]{2,3})_([A-Z]{2})-([a-z0-9]+(?:_[a-z0-9]+)*)-(x_low|low|medium|high)$/;

/**
 * Parses a Piper voice id (`<lang>_<REGION>-<speaker>-<quality>`). Throws a
 * `voice-invalid` {@link VoiceAgentError} for anything else.
 */
export function parseVoiceId(id: string): PiperVoiceId {
  const match = VOICE_ID.exec(String(id ?? '').trim());
  if (!match) {
    throw new VoiceAgentError(
      'voice-invalid',
      `"${String(id)}" is not a Piper voice id: expected <language>_<REGION>-<speaker>-<quality>, e.g. ${DEFAULT_VOICE_ID} (quality x_low, low, medium or high).`,
    );
  }
  const [, family, region, speaker, quality] = match as unknown as [string, string, string, string, PiperQuality];
  return { id: match[0], family, locale: `${family}_${region}`, speaker, quality };
}

/** The two files of a voice. */
export interface PiperVoiceUrls {
  readonly modelUrl: string;
  readonly configUrl: string;
}

/**
 * The URLs of a voice's files: `${base}/rhasspy/piper-voices/en/en_US/joe/medium/en_US-joe-medium.onnx`
 * (+ `.json`) under a `model-base-url`, or the same path on the public hub.
 */
export function voiceUrls(id: string, modelBaseUrl?: string): PiperVoiceUrls {
  const voice = parseVoiceId(id);
  const root = modelBaseUrl ? `${modelBaseUrl.replace(/\/+$/, '')}/${PIPER_VOICES_REPO}` : PIPER_VOICES_HUB;
  const modelUrl = `${root}/${voice.family}/${voice.locale}/${voice.speaker}/${voice.quality}/${voice.id}.onnx`;
  return { modelUrl, configUrl: `${modelUrl}.json` };
}

/** What we use of a voice's `.onnx.json`. */
export interface PiperVoiceConfig {
  readonly sampleRateHz: number;
  /** espeak-ng language of the phonemizer, e.g. `en-us`. */
  readonly espeakVoice: string;
  readonly phonemeIdMap: Readonly<Record<string, readonly number[]>>;
  readonly noiseScale: number;
  readonly lengthScale: number;
  readonly noiseW: number;
  readonly numSpeakers: number;
}

/**
 * Validates a parsed `.onnx.json`. `file` names it in the error, which is a
 * `model-load-failed` {@link VoiceAgentError} (a corrupt or wrong file is a failed load).
 */
export function parseVoiceConfig(json: unknown, file: string): PiperVoiceConfig {
  const fail = (what: string) =>
    new VoiceAgentError('model-load-failed', `${file} is not a Piper voice config: ${what}.`);
  if (typeof json !== 'object' || json === null) throw fail('not a JSON object');
  const config = json as Record<string, unknown>;
  const audio = config['audio'] as Record<string, unknown> | undefined;
  const sampleRateHz = audio?.['sample_rate'];
  if (typeof sampleRateHz !== 'number' || !(sampleRateHz >= 8000 && sampleRateHz <= 96_000)) {
    throw fail('audio.sample_rate is missing or out of range');
  }
  const espeak = config['espeak'] as Record<string, unknown> | undefined;
  const espeakVoice = espeak?.['voice'];
  if (typeof espeakVoice !== 'string' || !espeakVoice) throw fail('espeak.voice is missing');
  const map = config['phoneme_id_map'];
  if (typeof map !== 'object' || map === null) throw fail('phoneme_id_map is missing');
  const phonemeIdMap: Record<string, number[]> = {};
  for (const [phoneme, ids] of Object.entries(map as Record<string, unknown>)) {
    if (!Array.isArray(ids) || !ids.every((n) => Number.isInteger(n) && n >= 0)) {
      throw fail(`phoneme_id_map["${phoneme}"] is not a list of ids`);
    }
    phonemeIdMap[phoneme] = ids as number[];
  }
  for (const marker of [PAD, BOS, EOS]) {
    if (!phonemeIdMap[marker]?.length) throw fail(`phoneme_id_map has no "${marker}"`);
  }
  const inference = (config['inference'] ?? {}) as Record<string, unknown>;
  const number = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
  return {
    sampleRateHz,
    espeakVoice,
    phonemeIdMap,
    // Piper's own defaults when a config leaves them out.
    noiseScale: number(inference['noise_scale'], 0.667),
    lengthScale: number(inference['length_scale'], 1),
    noiseW: number(inference['noise_w'], 0.8),
    numSpeakers: number(config['num_speakers'], 1),
  };
}

/** Piper's pad, sentence-start and sentence-end symbols. */
export const PAD = '_';
export const BOS = '^';
export const EOS = '$';

/**
 * Turns a text into phoneme symbols. The one seam between Piper and its text front end:
 * the shipped implementation is espeak-ng compiled to WebAssembly (piper-tts-web's
 * piper-phonemize build, GPL-3.0, loaded as a separate asset); another (a lexicon, a
 * neural G2P) can replace it by implementing this.
 */
export interface Phonemizer {
  /** Loads what the phonemizer needs. Idempotent; rejects with a clear message. */
  load(): Promise<void>;
  /**
   * The phonemes of `text` in `voice.espeakVoice`'s language: one array of phoneme
   * symbols (IPA characters, spaces and punctuation, as Piper voices expect) per sentence,
   * without `^`, `$` or pads.
   */
  phonemize(text: string, voice: PiperVoiceConfig): Promise<string[][]>;
  /** Frees what it holds; `load()` may be called again afterwards. */
  dispose(): void;
}

/** Model input ids for some phonemized sentences, and the symbols the voice lacks. */
export interface PhonemeIds {
  readonly ids: number[];
  /** Symbols with no id in the voice's map; they are left out (spoken without them). */
  readonly dropped: string[];
}

/**
 * Builds the model input for one or more sentences: per sentence `^ _ p₁ _ p₂ _ … pₙ _ $`.
 * Symbols missing from `phonemeIdMap` are dropped (and reported), never passed as
 * garbage ids; sentences left empty are skipped.
 */
export function phonemesToIds(sentences: readonly (readonly string[])[], phonemeIdMap: PiperVoiceConfig['phonemeIdMap']): PhonemeIds {
  const pad = phonemeIdMap[PAD] ?? [];
  const bos = phonemeIdMap[BOS] ?? [];
  const eos = phonemeIdMap[EOS] ?? [];
  const ids: number[] = [];
  const dropped: string[] = [];
  for (const sentence of sentences) {
    const body: number[] = [];
    let sounds = false;
    for (const phoneme of sentence) {
      const mapped = phonemeIdMap[phoneme];
      if (!mapped || phoneme === PAD || phoneme === BOS || phoneme === EOS) {
        if (phoneme !== PAD) dropped.push(phoneme);
        continue;
      }
      body.push(...mapped, ...pad);
      if (!SILENT_SYMBOLS.has(phoneme)) sounds = true;
    }
    // A sentence of nothing but spaces and punctuation would only make a click.
    if (sounds) ids.push(...bos, ...pad, ...body, ...eos);
  }
  return { ids, dropped };
}

/** Symbols that carry no sound by themselves. */
const SILENT_SYMBOLS = new Set([' ', ',', '.', '!', '?', ';', ':', '"', "'", '(', ')', '-', '—', '…', 'ˈ', 'ˌ', 'ː']);
