/**
 * Turn detection end to end: real recorded speech as the microphone, the real Silero
 * model, the built element in Debian's Chromium.
 */
import { expect, test } from '@playwright/test';
import { agentState, startAgent, turnAudio, waitForPlayback } from './support/agent.ts';
import { SAME_SPEECH, locate, rms } from './support/audio-compare.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { durationSeconds, paddedFixture } from './support/wav.ts';

test('the JFK clip yields one turn per spoken phrase, each the same speech as the recording, none lost', async () => {
  const { path, pcm, source } = paddedFixture('english-other/en_jfk_inaugural_1961.wav');
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page } = opened;
    const t0 = await startAgent(page);
    expect(await agentState(page)).toBe('listening');
    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);

    const ends = await recordedEvents(page, 'voice-speech-end');
    const starts = await recordedEvents(page, 'voice-speech-start');
    // Policy (README "Turn detection"): a pause of silence-ms (480 ms) ends a turn, and
    // JFK pauses ~0.6–1 s between his four phrases. The second ("ask not", 0.5 s, soft)
    // scores only 6–14 speech frames live; when it falls short of min-speech-ms it leads
    // the third turn instead. Either way no speech is lost (checked below).
    expect([3, 4]).toContain(ends.length);
    expect(starts.length).toBe(ends.length);

    const turns = await turnAudio(page);
    const padded = pcm.samples;
    let previousOffset = -1;
    const spans: [number, number][] = [];
    for (const [i, audio] of turns.entries()) {
      expect(rms(audio), `turn ${i} is not silence`).toBeGreaterThan(0.01);
      const match = locate(audio, padded);
      // Same speech (not silence, not the wrong rate): strong correlation with the source…
      expect(match.correlation, `turn ${i} correlation`).toBeGreaterThan(SAME_SPEECH);
      // …at a later place in the recording than the previous turn.
      expect(match.offset).toBeGreaterThan(previousOffset);
      previousOffset = match.offset;
      spans.push([match.offset / 16_000, (match.offset + audio.length) / 16_000]);
    }
    // "Ask not" (4.8–5.5 s into the padded recording) is inside some turn, merged or not.
    expect(spans.some(([from, to]) => from <= 4.8 && to >= 5.5), JSON.stringify(spans)).toBe(true);
    // Together the turns cover the speech: their total length is close to the clip's.
    const total = turns.reduce((n, a) => n + a.length, 0) / 16_000;
    expect(total).toBeGreaterThan(durationSeconds(source) * 0.7);
    expect(total).toBeLessThan(durationSeconds(source) * 1.2);
  } finally {
    await opened.close();
  }
});

/**
 * The derived long-pause clips are one sentence with a 1.5–3 s pause inserted mid-way.
 * Policy: a pause longer than silence-ms (480 ms) ends the turn, so each clip yields
 * exactly two turns, split at the inserted pause — the same cut vad-web's 1400 ms default
 * makes (see bench/vad.ts). The first turn holds the words before the pause.
 */
const LONG_PAUSE_CLIPS = [
  'derived/long-pauses/pause_1221-135766-0001_gap2000ms.wav',
  'derived/long-pauses/pause_1272-128104-0000_mid_gap1500ms.wav',
  'derived/long-pauses/pause_1272-128104-0000_mid_gap3000ms.wav',
];

for (const clip of LONG_PAUSE_CLIPS) {
  test(`${clip.split('/').pop()} yields two turns, split at the inserted pause`, async () => {
    const { path, pcm } = paddedFixture(clip);
    const opened = await openAgentPage({ micWav: path });
    try {
      const { page } = opened;
      const t0 = await startAgent(page);
      await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
      const turns = await turnAudio(page);
      expect(turns).toHaveLength(2);
      const [first, second] = turns.map((audio) => locate(audio, pcm.samples));
      for (const match of [first!, second!]) expect(match.correlation).toBeGreaterThan(SAME_SPEECH);
      // The second turn starts after the first one ends (the pause lies between them).
      expect(second!.offset).toBeGreaterThan(first!.offset + turns[0]!.length - 16_000 * 0.3);
    } finally {
      await opened.close();
    }
  });
}

for (const clip of ['no-speech/nospeech_dishes_noise_0-20s.wav', 'no-speech/nospeech_picovoice_empty.wav']) {
  test(`${clip.split('/').pop()} (no speech) yields no turn`, async () => {
    const { path, pcm } = paddedFixture(clip);
    const opened = await openAgentPage({ micWav: path, body: agentMarkup('debug') });
    try {
      const { page } = opened;
      const t0 = await startAgent(page);
      await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
      // The pipeline did run: the VAD scored (nearly) every 32 ms frame of the clip.
      const scored = await page.evaluate(() => (window as unknown as { __vadFrames: unknown[] }).__vadFrames.length);
      expect(scored).toBeGreaterThan((durationSeconds(pcm) / 0.032) * 0.9);
      expect(await recordedEvents(page, 'voice-speech-start')).toEqual([]);
      expect(await recordedEvents(page, 'voice-speech-end')).toEqual([]);
      expect(await recordedEvents(page, 'voice-error')).toEqual([]);
      expect(await agentState(page)).toBe('listening');
    } finally {
      await opened.close();
    }
  });
}
