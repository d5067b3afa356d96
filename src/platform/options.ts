/**
 * Options of `<voice-agent>`: their defaults, ranges, and the validation that turns
 * whatever a page author wrote in an attribute into a usable value.
 *
 * The rule for bad input is "warn once, use the default, never throw": an embed with a
 * typo in `silence-ms` must still work. Every numeric option carries its unit in its name.
 */

export type VoiceAgentMode = 'hands-free' | 'push-to-talk' | 'text';
export const VOICE_AGENT_MODES: readonly VoiceAgentMode[] = ['hands-free', 'push-to-talk', 'text'];

/**
 * What decides that a pause ends the visitor's turn: `silence` (the pause reached
 * `silence-ms`) or `smart-turn` (Smart Turn v3.2 listens to the turn's audio and says
 * whether it sounds finished; see src/turns/semantic-end-of-turn.ts).
 */
export type EndOfTurnMode = 'silence' | 'smart-turn';
export const END_OF_TURN_MODES: readonly EndOfTurnMode[] = ['silence', 'smart-turn'];

/** How turns are cut out of the microphone stream. */
export interface TurnDetectionOptions {
  /** Silero probability at or above which a frame counts as speech (enter threshold). */
  readonly speechThreshold: number;
  /**
   * Probability below which a frame counts as silence (exit threshold). Frames between
   * the two thresholds keep the current state: that hysteresis stops a turn from
   * flickering on and off at a soft consonant.
   */
  readonly silenceThreshold: number;
  /** Silence after the last speech before the turn ends (the hangover). */
  readonly silenceMs: number;
  /** A turn with less speech than this is a misfire (a click, a cough) and is dropped. */
  readonly minSpeechMs: number;
  /** Audio kept from before the detected onset, so the first syllable is not clipped. */
  readonly preSpeechPadMs: number;
  /** A turn is ended (and a new one begun) once it grows this long. */
  readonly maxTurnMs: number;
  /**
   * The end-of-turn policy. With `smart-turn`, `silenceMs` still applies to a pause whose
   * verdict failed, and to every pause if the model could not be loaded.
   */
  readonly endOfTurn: EndOfTurnMode;
}

/**
 * Defaults tuned on `../shared/audio` with `npm run bench:vad` (see README "Turn
 * detection"): the Silero reference thresholds (0.5 in, 0.35 out) and a 480 ms hangover —
 * 15 VAD frames of 32 ms exactly (500 ended a turn 16 frames, 512 ms, into the pause; the
 * frame less brought `bench:asr`'s last voiced frame → final under 500 ms at the same word
 * error rate, README "Speech recognition"). Measured live in Chromium with 500, a turn ended ~0.54 s after the last voiced frame
 * (vad-web's defaults: ~1.41 s), the noise-only clips yield no turn, and the long-pause
 * clips are cut exactly where vad-web's 1400 ms hangover cuts them (all their pauses are
 * ≥ 1.5 s). `minSpeechMs` (counted over frames in the hysteresis' speaking state) is
 * 250 ms = 8 frames: over repeated live runs the noise-only clips reached at most 7 such
 * frames (dishes noise starting after silence, while Chromium's noise suppressor adapts).
 * A soft phrase that falls short is not lost: see MISFIRE_CARRY_MS in speech-segmenter.ts.
 */
export const DEFAULT_TURN_DETECTION: TurnDetectionOptions = {
  speechThreshold: 0.5,
  silenceThreshold: 0.35,
  silenceMs: 480,
  minSpeechMs: 250,
  preSpeechPadMs: 300,
  maxTurnMs: 120_000,
  endOfTurn: 'silence',
};

/** Gap kept between the enter and exit thresholds when only `vad-threshold` is given. */
export const THRESHOLD_HYSTERESIS = 0.15;

/** A numeric option's name as written in markup, its range and default. */
export interface NumberOptionSpec {
  readonly attribute: string;
  readonly min: number;
  readonly max: number;
  readonly defaultValue: number;
}

export const SILENCE_MS: NumberOptionSpec = {
  attribute: 'silence-ms',
  min: 100,
  max: 5000,
  defaultValue: DEFAULT_TURN_DETECTION.silenceMs,
};
export const VAD_THRESHOLD: NumberOptionSpec = {
  attribute: 'vad-threshold',
  min: 0.05,
  max: 0.95,
  defaultValue: DEFAULT_TURN_DETECTION.speechThreshold,
};
export const MIN_SPEECH_MS: NumberOptionSpec = {
  attribute: 'min-speech-ms',
  min: 0,
  max: 5000,
  defaultValue: DEFAULT_TURN_DETECTION.minSpeechMs,
};

export type Warn = (message: string) => void;

/** Returns `value` if it is a finite number within the spec's range, else warns and returns the default. */
export function validateNumber(spec: NumberOptionSpec, value: unknown, warn: Warn): number {
  if (value === undefined || value === null) return spec.defaultValue;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (typeof value === 'string' && value.trim() === '') return spec.defaultValue;
  if (!Number.isFinite(number) || number < spec.min || number > spec.max) {
    warn(
      `${spec.attribute}="${String(value)}" is not a number from ${spec.min} to ${spec.max}; using ${spec.defaultValue}.`,
    );
    return spec.defaultValue;
  }
  return number;
}

/** Returns `value` if it is one of `allowed`, else warns and returns `fallback`. */
export function validateEnum<T extends string>(
  attribute: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  warn: Warn,
): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  warn(`${attribute}="${String(value)}" is not one of ${allowed.join(', ')}; using ${fallback}.`);
  return fallback;
}

/**
 * Validates a base URL (absolute, or relative to `documentUrl`). Returns it without a
 * trailing slash, or `undefined` (meaning "the public hubs") with a warning if unusable.
 */
export function validateBaseUrl(
  attribute: string,
  value: unknown,
  documentUrl: string,
  warn: Warn,
): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    warn(`${attribute} must be a URL; using the public model hubs.`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value, documentUrl);
  } catch {
    warn(`${attribute}="${value}" is not a valid URL; using the public model hubs.`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    warn(`${attribute}="${value}" must be an http(s) URL; using the public model hubs.`);
    return undefined;
  }
  return url.href.replace(/\/+$/, '');
}

/** The raw, author-supplied turn-detection knobs (attributes or properties). */
export interface TurnDetectionInput {
  readonly silenceMs?: unknown;
  readonly vadThreshold?: unknown;
  readonly minSpeechMs?: unknown;
  readonly endOfTurn?: unknown;
}

export function resolveTurnDetection(input: TurnDetectionInput, warn: Warn): TurnDetectionOptions {
  const speechThreshold = validateNumber(VAD_THRESHOLD, input.vadThreshold, warn);
  return {
    ...DEFAULT_TURN_DETECTION,
    speechThreshold,
    silenceThreshold: Math.max(0.01, speechThreshold - THRESHOLD_HYSTERESIS),
    silenceMs: validateNumber(SILENCE_MS, input.silenceMs, warn),
    minSpeechMs: validateNumber(MIN_SPEECH_MS, input.minSpeechMs, warn),
    endOfTurn: validateEnum('end-of-turn', input.endOfTurn, END_OF_TURN_MODES, DEFAULT_TURN_DETECTION.endOfTurn, warn),
  };
}

/** A warning sink that says each distinct message once, prefixed with the tag name. */
export function createOnceWarner(sink: (message: string) => void = (m) => console.warn(m)): Warn {
  const said = new Set<string>();
  return (message) => {
    if (said.has(message)) return;
    said.add(message);
    sink(`<voice-agent>: ${message}`);
  };
}

// ── speech output ─────────────────────────────────────────────────────────────────────

/**
 * `speaking-rate`: 1 is the voice's own pace, 2 twice as fast, 0.5 half as fast. It
 * divides the voice's `length_scale` (Piper's duration multiplier).
 */
export const SPEAKING_RATE: NumberOptionSpec = {
  attribute: 'speaking-rate',
  min: 0.5,
  max: 2,
  defaultValue: 1,
};

