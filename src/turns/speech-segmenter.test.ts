import { describe, expect, it } from 'vitest';
import { SilenceEndOfTurnPolicy, type EndOfTurnContext, type EndOfTurnPolicy } from './end-of-turn.ts';
import { DEFAULT_TURN_DETECTION, type TurnDetectionOptions } from '../platform/options.ts';
import { concatPcm } from '../audio/pcm.ts';
import {
  MISFIRE_CARRY_MS,
  POST_SPEECH_PAD_MS,
  STREAM_CHUNK_FRAMES,
  SUSTAINED_REPEAT_FRAMES,
  SUSTAINED_SPEECH_MS,
  SpeechSegmenter,
  type SegmenterEvent,
} from './speech-segmenter.ts';

const FRAME = 512;
const FRAME_MS = 32;

/** Frame i is filled with the value i, so audio slices tell which frames they hold. */
const frame = (i: number) => new Float32Array(FRAME).fill(i);

function segmenter(options: Partial<TurnDetectionOptions> = {}, policy?: EndOfTurnPolicy) {
  const config = { ...DEFAULT_TURN_DETECTION, ...options, frameSamples: FRAME, sampleRateHz: 16_000 };
  return new SpeechSegmenter(config, policy ?? new SilenceEndOfTurnPolicy(config.silenceMs));
}

/**
 * Feeds one probability per frame; returns events tagged with the frame index that caused
 * them. `speech-audio` chunks and `speech-sustained` are left out unless asked for (tests
 * of their own cover them).
 */
async function run(seg: SpeechSegmenter, probabilities: number[], startIndex = 0, withAudio = false) {
  const out: { at: number; event: SegmenterEvent }[] = [];
  for (let i = 0; i < probabilities.length; i++) {
    for (const event of await seg.push(frame(startIndex + i), probabilities[i]!)) {
      if (withAudio || (event.type !== 'speech-audio' && event.type !== 'speech-sustained')) out.push({ at: startIndex + i, event });
    }
  }
  return out;
}

const repeat = (p: number, n: number) => Array<number>(n).fill(p);
const framesOf = (audio: Float32Array) => {
  const ids: number[] = [];
  for (let i = 0; i < audio.length; i += FRAME) ids.push(audio[i]!);
  return ids;
};

describe('SpeechSegmenter', () => {
  it('dropTurn forgets the turn with that onset (no event) and keeps its tail as the next pad', async () => {
    const seg = segmenter({ silenceMs: 500, minSpeechMs: 250, preSpeechPadMs: 96 });
    const first = await run(seg, [...repeat(0.05, 5), ...repeat(0.9, 10)], 0, true);
    const sustained = first.find((e) => e.event.type === 'speech-sustained')!.event as Extract<SegmenterEvent, { type: 'speech-sustained' }>;
    expect(seg.dropTurn(sustained.onsetMs + 32)).toBe(false); // another turn's onset: kept
    expect(seg.inTurn).toBe(true);
    expect(seg.dropTurn(sustained.onsetMs)).toBe(true);
    expect(seg.inTurn).toBe(false);
    // The next onset opens a fresh turn, padded with the dropped turn's last frames.
    const next = await run(seg, [...repeat(0.9, 10), ...repeat(0.05, 20)], 15, true);
    expect([...new Set(next.map((e) => e.event.type).filter((t) => t !== 'speech-audio'))]).toEqual([
      'speech-onset',
      'speech-sustained',
      'speech-start',
      'speech-end',
    ]);
    const end = next.find((e) => e.event.type === 'speech-end')!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    expect(framesOf(end.audio).slice(0, 4)).toEqual([12, 13, 14, 15]);
  });

  it('reports sustained speech before minSpeechMs confirms it, then every few frames, with the recent level', async () => {
    const seg = segmenter({ silenceMs: 500, minSpeechMs: 250, preSpeechPadMs: 320 });
    const events = (await run(seg, [...repeat(0.05, 20), ...repeat(0.9, 20), ...repeat(0.05, 30)], 0, true)).filter(
      (e) => e.event.type !== 'speech-audio',
    );
    const sustainedFrames = Math.ceil(SUSTAINED_SPEECH_MS / FRAME_MS);
    const sustainedAt = 20 + sustainedFrames - 1;
    const types = events.map((e) => `${e.event.type}@${e.at}`);
    expect(types.slice(0, 2)).toEqual(['speech-onset@20', `speech-sustained@${sustainedAt}`]);
    expect(types).toContain(`speech-start@${20 + Math.ceil(250 / FRAME_MS) - 1}`);
    expect(types.at(-1)).toBe(`speech-end@${39 + Math.ceil(500 / FRAME_MS)}`);
    const sustained = events.filter((e) => e.event.type === 'speech-sustained');
    // Every SUSTAINED_REPEAT_FRAMES frames while speaking: 20 speech frames (+ the hangover frames still counted as speaking).
    expect(sustained.map((e) => e.at).slice(0, 3)).toEqual([sustainedAt, sustainedAt + SUSTAINED_REPEAT_FRAMES, sustainedAt + 2 * SUSTAINED_REPEAT_FRAMES]);
    const first = sustained[0]!.event as Extract<SegmenterEvent, { type: 'speech-sustained' }>;
    expect(first.onsetMs).toBe(20 * FRAME_MS);
    expect(first.atMs).toBe((sustainedAt + 1) * FRAME_MS);
    // frame(i) is filled with the value i: the level is that of the last sustainedFrames frames.
    const levelOf = (last: number) => {
      const ids = Array.from({ length: sustainedFrames }, (_, k) => last - k);
      return Math.sqrt(ids.reduce((sum, v) => sum + v * v, 0) / ids.length);
    };
    expect(first.rms).toBeCloseTo(levelOf(sustainedAt), 3);
    const second = sustained[1]!.event as Extract<SegmenterEvent, { type: 'speech-sustained' }>;
    expect(second.onsetMs).toBe(20 * FRAME_MS);
    expect(second.rms).toBeCloseTo(levelOf(sustainedAt + SUSTAINED_REPEAT_FRAMES), 3);
  });

  it('trimTurn keeps only the end of the turn: the final audio starts there', async () => {
    const seg = segmenter({ silenceMs: 500, minSpeechMs: 250, preSpeechPadMs: 96 });
    const head = await run(seg, [...repeat(0.05, 5), ...repeat(0.9, 20)], 0, true);
    const onset = head.find((e) => e.event.type === 'speech-onset')!.event as Extract<SegmenterEvent, { type: 'speech-onset' }>;
    expect(seg.trimTurn(onset.startMs + 32, 4 * FRAME_MS)).toBe(0); // another turn: untouched
    expect(seg.trimTurn(onset.startMs, 4 * FRAME_MS)).toBe(3 + 20 - 4);
    const tail = await run(seg, [...repeat(0.9, 3), ...repeat(0.05, 20)], 25, true);
    const end = tail.find((e) => e.event.type === 'speech-end')!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    expect(framesOf(end.audio).slice(0, 7)).toEqual([21, 22, 23, 24, 25, 26, 27]);
    expect(end.startMs).toBe(21 * FRAME_MS);
  });

  it('cuts one turn: onset, confirmed start, end after the hangover, with pads', async () => {
    // 20 silent, 20 speech (frames 20..39), 30 silent.
    const seg = segmenter({ silenceMs: 500, minSpeechMs: 250, preSpeechPadMs: 320 });
    const events = await run(seg, [...repeat(0.05, 20), ...repeat(0.9, 20), ...repeat(0.05, 30)]);
    expect(events.map((e) => `${e.event.type}@${e.at}`)).toEqual([
      'speech-onset@20',
      `speech-start@${20 + Math.ceil(250 / FRAME_MS) - 1}`,
      `speech-end@${39 + Math.ceil(500 / FRAME_MS)}`,
    ]);
    const end = events[2]!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    expect(end.startMs).toBe(20 * FRAME_MS);
    expect(end.lastSpeechMs).toBe(40 * FRAME_MS);
    expect(end.speechMs).toBe(20 * FRAME_MS);
    expect(end.endMs - end.lastSpeechMs).toBe(Math.ceil(500 / FRAME_MS) * FRAME_MS);
    // 10 frames of pre-speech pad, the speech, then the post-speech pad.
    const post = Math.round(POST_SPEECH_PAD_MS / FRAME_MS);
    expect(framesOf(end.audio)).toEqual(Array.from({ length: 10 + 20 + post }, (_, i) => 10 + i));
  });

  it('streams a confirmed turn as it grows; the chunks begin exactly like the final audio', async () => {
    const seg = segmenter({ silenceMs: 500, minSpeechMs: 250, preSpeechPadMs: 320 });
    const events = await run(seg, [...repeat(0.05, 20), ...repeat(0.9, 20), ...repeat(0.05, 30)], 0, true);
    const chunks = events.flatMap((e) => (e.event.type === 'speech-audio' ? [e.event] : []));
    const end = events.find((e) => e.event.type === 'speech-end')!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    // Nothing streams before the turn is confirmed (a misfire never reaches the recognizer).
    const startAt = events.find((e) => e.event.type === 'speech-start')!.at;
    expect(events.find((e) => e.event.type === 'speech-audio')!.at).toBe(startAt);
    // Chunks are contiguous and their concatenation starts with the final audio.
    let offset = 0;
    for (const chunk of chunks) {
      expect(chunk.offsetSamples).toBe(offset);
      offset += chunk.audio.length;
    }
    const streamed = concatPcm(chunks.map((c) => c.audio));
    expect(streamed.length).toBeGreaterThanOrEqual(end.audio.length - STREAM_CHUNK_FRAMES * FRAME);
    const common = Math.min(streamed.length, end.audio.length);
    expect(Array.from(streamed.subarray(0, common))).toEqual(Array.from(end.audio.subarray(0, common)));
    // Trailing silence counts the frames after the last voiced one (frame 39).
    const last = chunks.at(-1)!;
    const lastFrameId = last.audio[last.audio.length - 1]!;
    expect(last.trailingSilenceSamples).toBe((lastFrameId - 39) * FRAME);
    // The final audio says where the speech ends: 10 pad frames + 20 voiced.
    expect(end.lastSpeechSample).toBe(30 * FRAME);
  });

  it('keeps a soft word (between the thresholds) in the hangover inside the turn audio', async () => {
    // 20 speech frames (0..19), 5 silent, 4 soft frames (25..28) at 0.4, then silence.
    const seg = segmenter({ silenceMs: 500, preSpeechPadMs: 0 });
    const events = await run(seg, [...repeat(0.9, 20), ...repeat(0.05, 5), ...repeat(0.4, 4), ...repeat(0.05, 30)]);
    const end = events.find((e) => e.event.type === 'speech-end')!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    const ids = framesOf(end.audio);
    expect(ids).toContain(28);
    expect(end.lastSpeechSample).toBe(29 * FRAME);
    // The end-of-turn clock still runs from the last frame above the speech threshold.
    expect(end.lastSpeechMs).toBe(20 * FRAME_MS);
  });

  it('holds the turn open through a pause shorter than the hangover', async () => {
    const seg = segmenter({ silenceMs: 500 });
    const events = await run(seg, [...repeat(0.9, 15), ...repeat(0.05, 12), ...repeat(0.9, 15), ...repeat(0.05, 20)]);
    expect(events.filter((e) => e.event.type === 'speech-end')).toHaveLength(1);
  });

  it('splits at a pause longer than the hangover, each turn with its own speech', async () => {
    const seg = segmenter({ silenceMs: 500 });
    const events = await run(seg, [...repeat(0.9, 15), ...repeat(0.05, 20), ...repeat(0.9, 15), ...repeat(0.05, 20)]);
    const ends = events.filter((e) => e.event.type === 'speech-end');
    expect(ends).toHaveLength(2);
    const second = ends[1]!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    expect(second.startMs).toBe(35 * FRAME_MS);
    expect(framesOf(second.audio)).toContain(35);
    expect(framesOf(second.audio)).not.toContain(14); // the first turn's speech stays in the first turn
  });

  it('drops a blip shorter than min-speech as a misfire', async () => {
    const seg = segmenter({ minSpeechMs: 250 });
    const events = await run(seg, [...repeat(0.05, 5), ...repeat(0.95, 3), ...repeat(0.05, 30)]);
    expect(events.map((e) => e.event.type)).toEqual(['speech-onset', 'misfire']);
  });

  it('treats probabilities between the thresholds as neither speech nor silence (hysteresis)', async () => {
    const seg = segmenter({ speechThreshold: 0.5, silenceThreshold: 0.35, silenceMs: 320 });
    // In-between frames (0.4) neither count as speech nor advance the silence counter.
    const events = await run(seg, [...repeat(0.9, 10), ...repeat(0.4, 30), ...repeat(0.1, 10)]);
    const end = events.find((e) => e.event.type === 'speech-end');
    expect(end?.at).toBe(40 + 320 / FRAME_MS - 1);
  });

  it('counts frames in the speaking state towards min-speech (soft phrases are not dropped)', async () => {
    // 2 frames ≥ 0.5, then 3 between the thresholds: 5 frames of speech = 160 ms.
    const soft = await run(segmenter({ minSpeechMs: 150 }), [0.6, 0.9, 0.4, 0.45, 0.4, ...repeat(0.05, 30)]);
    expect(soft.map((e) => e.event.type)).toEqual(['speech-onset', 'speech-start', 'speech-end']);
    // The same loud frames followed by silence are a misfire.
    const blip = await run(segmenter({ minSpeechMs: 150 }), [0.6, 0.9, 0.2, 0.4, 0.4, ...repeat(0.05, 30)]);
    expect(blip.map((e) => e.event.type)).toEqual(['speech-onset', 'misfire']);
  });

  it('carries a misfire into a turn that follows within MISFIRE_CARRY_MS, as one contiguous piece of audio', async () => {
    const seg = segmenter({ minSpeechMs: 250, silenceMs: 320, preSpeechPadMs: 0 });
    // Blip (frames 5–8), 20 quiet frames (640 ms), then a real phrase (frames 29–48).
    const events = await run(seg, [...repeat(0.05, 5), ...repeat(0.9, 4), ...repeat(0.05, 20), ...repeat(0.9, 20), ...repeat(0.05, 20)]);
    expect(events.map((e) => e.event.type)).toEqual(['speech-onset', 'misfire', 'speech-onset', 'speech-start', 'speech-end']);
    const end = events.at(-1)!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    expect(end.startMs).toBe(5 * FRAME_MS);
    const ids = framesOf(end.audio);
    expect(ids[0]).toBe(5);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 5 + i)); // no gaps, no repeats
    expect(ids).toContain(48);
  });

  it('drops a misfire when nothing follows within MISFIRE_CARRY_MS', async () => {
    const seg = segmenter({ minSpeechMs: 250, silenceMs: 320, preSpeechPadMs: 64 });
    // The window opens when the misfire is declared (after silence-ms of quiet).
    const quiet = 320 / FRAME_MS + Math.ceil(MISFIRE_CARRY_MS / FRAME_MS) + 10;
    const events = await run(seg, [...repeat(0.9, 4), ...repeat(0.05, quiet), ...repeat(0.9, 20), ...repeat(0.05, 20)]);
    const end = events.find((e) => e.event.type === 'speech-end')!.event as Extract<SegmenterEvent, { type: 'speech-end' }>;
    expect(framesOf(end.audio)[0]).toBe(4 + quiet - 2); // just the 64 ms pre-speech pad
    expect(end.startMs).toBe((4 + quiet) * FRAME_MS);
  });

  it('ends an overlong turn at max-turn and starts afresh', async () => {
    const seg = segmenter({ maxTurnMs: 50 * FRAME_MS, preSpeechPadMs: 0 });
    const events = await run(seg, repeat(0.9, 120));
    const ends = events.filter((e) => e.event.type === 'speech-end');
    expect(ends.map((e) => e.at)).toEqual([49, 99]);
  });

  it('asks the end-of-turn policy on silent frames only, with growing silence and the turn audio', async () => {
    const seen: EndOfTurnContext[] = [];
    const policy: EndOfTurnPolicy = {
      // An asynchronous policy that ends the turn on its third silent frame.
      shouldEndTurn: async (context) => {
        seen.push(context);
        return context.silenceMs >= 3 * FRAME_MS;
      },
    };
    const seg = segmenter({ preSpeechPadMs: 0, minSpeechMs: 0 }, policy);
    const events = await run(seg, [...repeat(0.9, 4), ...repeat(0.05, 5)]);
    expect(seen.map((c) => c.silenceMs)).toEqual([32, 64, 96]);
    expect(seen[2]!.speechMs).toBe(4 * FRAME_MS);
    expect(framesOf(seen[2]!.audio())).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events.at(-1)?.event.type).toBe('speech-end');
  });

  it('push-to-talk: a manual turn ignores silence until released', async () => {
    const seg = segmenter({ silenceMs: 100, minSpeechMs: 64 });
    expect(seg.beginManualTurn().map((e) => e.type)).toEqual(['speech-onset']);
    const during = await run(seg, [...repeat(0.05, 10), ...repeat(0.9, 5), ...repeat(0.05, 40)]);
    expect(during.map((e) => e.event.type)).toEqual(['speech-start']);
    const [end] = seg.endManualTurn();
    expect(end?.type).toBe('speech-end');
    expect((end as Extract<SegmenterEvent, { type: 'speech-end' }>).audio.length).toBeGreaterThan(15 * FRAME);
    expect(seg.inTurn).toBe(false);
  });

  it('push-to-talk: releasing without speech is a misfire; releasing twice does nothing', async () => {
    const seg = segmenter();
    seg.beginManualTurn();
    await run(seg, repeat(0.05, 20));
    expect(seg.endManualTurn().map((e) => e.type)).toEqual(['misfire']);
    expect(seg.endManualTurn()).toEqual([]);
  });

  it('reset() drops an open turn', async () => {
    const seg = segmenter();
    await run(seg, repeat(0.9, 20));
    expect(seg.inTurn).toBe(true);
    seg.reset();
    expect(seg.inTurn).toBe(false);
    expect(await run(seg, repeat(0.05, 40))).toEqual([]);
  });
});
