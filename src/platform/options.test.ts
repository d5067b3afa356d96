import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TURN_DETECTION,
  MIN_SPEECH_MS,
  SILENCE_MS,
  THRESHOLD_HYSTERESIS,
  VOICE_AGENT_MODES,
  createOnceWarner,
  resolveTurnDetection,
  validateBaseUrl,
  validateEnum,
  validateNumber,
} from './options.ts';

function collect() {
  const warnings: string[] = [];
  return { warnings, warn: (m: string) => warnings.push(m) };
}

describe('validateNumber', () => {
  it('accepts numbers and numeric strings within range', () => {
    const { warnings, warn } = collect();
    expect(validateNumber(SILENCE_MS, '800', warn)).toBe(800);
    expect(validateNumber(SILENCE_MS, ' 250 ', warn)).toBe(250);
    expect(validateNumber(SILENCE_MS, 1200, warn)).toBe(1200);
    expect(warnings).toEqual([]);
  });

  it('uses the default silently when unset', () => {
    const { warnings, warn } = collect();
    for (const unset of [undefined, null, '', '  ']) expect(validateNumber(SILENCE_MS, unset, warn)).toBe(SILENCE_MS.defaultValue);
    expect(warnings).toEqual([]);
  });

  it.each([['abc'], ['12px'], ['NaN'], ['Infinity'], [-5], ['99999'], [{}], [true]])(
    'warns about %j, naming the attribute and range, and falls back',
    (bad) => {
      const { warnings, warn } = collect();
      expect(validateNumber(SILENCE_MS, bad, warn)).toBe(SILENCE_MS.defaultValue);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('silence-ms=');
      expect(warnings[0]).toContain(`from ${SILENCE_MS.min} to ${SILENCE_MS.max}`);
    },
  );

  it('accepts the range bounds', () => {
    const { warn } = collect();
    expect(validateNumber(MIN_SPEECH_MS, 0, warn)).toBe(0);
    expect(validateNumber(MIN_SPEECH_MS, MIN_SPEECH_MS.max, warn)).toBe(MIN_SPEECH_MS.max);
  });
});

describe('validateEnum', () => {
  it('accepts known values and falls back (with a warning) on unknown ones', () => {
    const { warnings, warn } = collect();
    expect(validateEnum('mode', 'push-to-talk', VOICE_AGENT_MODES, 'hands-free', warn)).toBe('push-to-talk');
    expect(validateEnum('mode', null, VOICE_AGENT_MODES, 'hands-free', warn)).toBe('hands-free');
    expect(warnings).toEqual([]);
    expect(validateEnum('mode', 'walkie-talkie', VOICE_AGENT_MODES, 'hands-free', warn)).toBe('hands-free');
    expect(warnings).toEqual(['mode="walkie-talkie" is not one of hands-free, push-to-talk, text; using hands-free.']);
  });
});

describe('validateBaseUrl', () => {
  const page = 'https://example.com/app/page.html';
  it('resolves relative URLs against the document and strips trailing slashes', () => {
    const { warnings, warn } = collect();
    expect(validateBaseUrl('model-base-url', './models/', page, warn)).toBe('https://example.com/app/models');
    expect(validateBaseUrl('model-base-url', 'https://cdn.test/m///', page, warn)).toBe('https://cdn.test/m');
    expect(validateBaseUrl('model-base-url', '', page, warn)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('rejects non-http schemes and unparsable URLs', () => {
    const { warnings, warn } = collect();
    expect(validateBaseUrl('model-base-url', 'javascript:alert(1)', page, warn)).toBeUndefined();
    expect(validateBaseUrl('model-base-url', 'http://[bad', page, warn)).toBeUndefined();
    expect(warnings).toHaveLength(2);
  });
});

describe('resolveTurnDetection', () => {
  it('returns the documented defaults when nothing is set', () => {
    const { warnings, warn } = collect();
    expect(resolveTurnDetection({}, warn)).toEqual(DEFAULT_TURN_DETECTION);
    expect(warnings).toEqual([]);
  });

  it('derives the exit threshold from vad-threshold, never below 0.01', () => {
    const { warn } = collect();
    const options = resolveTurnDetection({ vadThreshold: '0.7', silenceMs: '900', minSpeechMs: 100 }, warn);
    expect(options.speechThreshold).toBe(0.7);
    expect(options.silenceThreshold).toBeCloseTo(0.7 - THRESHOLD_HYSTERESIS, 10);
    expect(options.silenceMs).toBe(900);
    expect(options.minSpeechMs).toBe(100);
    expect(resolveTurnDetection({ vadThreshold: 0.05 }, warn).silenceThreshold).toBe(0.01);
  });

  it('keeps good options when one is bad', () => {
    const { warnings, warn } = collect();
    const options = resolveTurnDetection({ vadThreshold: 'loud', silenceMs: '700' }, warn);
    expect(options.speechThreshold).toBe(DEFAULT_TURN_DETECTION.speechThreshold);
    expect(options.silenceMs).toBe(700);
    expect(warnings).toHaveLength(1);
  });

  it('end-of-turn: silence or smart-turn; anything else warns and uses the default', () => {
    const { warnings, warn } = collect();
    expect(resolveTurnDetection({ endOfTurn: 'smart-turn' }, warn).endOfTurn).toBe('smart-turn');
    expect(resolveTurnDetection({ endOfTurn: 'silence' }, warn).endOfTurn).toBe('silence');
    expect(warnings).toEqual([]);
    expect(resolveTurnDetection({ endOfTurn: 'smartturn' }, warn).endOfTurn).toBe(DEFAULT_TURN_DETECTION.endOfTurn);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('end-of-turn="smartturn"');
  });
});

describe('createOnceWarner', () => {
  it('prefixes the tag name and says each message once', () => {
    const said: string[] = [];
    const warn = createOnceWarner((m) => said.push(m));
    warn('a');
    warn('a');
    warn('b');
    expect(said).toEqual(['<voice-agent>: a', '<voice-agent>: b']);
  });
});
