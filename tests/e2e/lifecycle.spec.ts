/**
 * Start, stop, restart and removal with the real microphone pipeline: resources must
 * really be released, and a second session must work like the first.
 */
import { expect, test } from '@playwright/test';
import { agentState, startAgent, turnAudio } from './support/agent.ts';
import { SAME_SPEECH, locate, rms } from './support/audio-compare.ts';
import { openAgentPage, recordedEvents, resourceCounts } from './support/browser.ts';
import { AUDIO_DIR, joinClips, readWav, silence, writeWav, SCRATCH_DIR } from './support/wav.ts';
import { join } from 'node:path';

/** Three short sentences, 3 s apart, with silence around: a turn every few seconds. */
function threeSentences() {
  const clips = ['en_cmuarctic_aew_a0001.wav', 'en_cmuarctic_aew_a0002.wav', 'en_cmuarctic_aew_a0003.wav'].map((name) =>
    readWav(join(AUDIO_DIR, 'english-other', name)),
  );
  const rate = clips[0]!.sampleRateHz;
  const quiet = { sampleRateHz: rate, samples: silence(1, rate) };
  const pcm = joinClips([quiet, ...clips, { sampleRateHz: rate, samples: silence(3, rate) }], 3);
  return { path: writeWav(join(SCRATCH_DIR, 'three-sentences.wav'), pcm), pcm };
}

test('stop() releases the mic, AudioContext and workers; a second start() listens again', async () => {
  const { path } = threeSentences();
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page } = opened;
    await startAgent(page);
    await expect.poll(() => recordedEvents(page, 'voice-speech-end').then((e) => e.length), { timeout: 20_000 }).toBe(1);
    const live = await resourceCounts(page);
    expect(live.audioContexts).toBe(1);
    expect(live.liveTracks).toBeGreaterThan(0);

    await page.evaluate(() => document.querySelector('voice-agent')!.stop());
    expect(await agentState(page)).toBe('idle');
    await expect.poll(() => resourceCounts(page)).toEqual({ audioContexts: 0, workers: 0, liveTracks: 0 });

    // A fresh session: the element loads again, opens the mic again and cuts turns again.
    await startAgent(page);
    expect(await agentState(page)).toBe('listening');
    await expect
      .poll(() => recordedEvents(page, 'voice-speech-end').then((e) => e.length), { timeout: 30_000 })
      .toBeGreaterThan(1);
    const audio = await turnAudio(page);
    expect(rms(audio.at(-1)!)).toBeGreaterThan(0.01);
    await page.evaluate(() => document.querySelector('voice-agent')!.stop());
    await expect.poll(() => resourceCounts(page)).toEqual({ audioContexts: 0, workers: 0, liveTracks: 0 });
  } finally {
    await opened.close();
  }
});

test('removing the element mid-turn leaves no running AudioContext, worker or mic track', async () => {
  const { path } = threeSentences();
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page } = opened;
    await startAgent(page);
    await expect.poll(() => recordedEvents(page, 'voice-speech-start').then((e) => e.length), { timeout: 20_000 }).toBe(1);
    expect(await agentState(page)).toBe('user-speaking');
    await page.evaluate(() => document.querySelector('voice-agent')!.remove());
    await expect.poll(() => resourceCounts(page)).toEqual({ audioContexts: 0, workers: 0, liveTracks: 0 });
    // The turn that was open is dropped, not delivered after removal.
    await page.waitForTimeout(2000);
    expect(await recordedEvents(page, 'voice-speech-end')).toHaveLength(0);
  } finally {
    await opened.close();
  }
});

for (const isolated of [false, true]) {
  test(`works on a page served ${isolated ? 'with' : 'without'} COOP/COEP (crossOriginIsolated ${isolated})`, async () => {
    const { path, pcm } = threeSentences();
    const opened = await openAgentPage({ micWav: path, isolated });
    try {
      const { page } = opened;
      // Everything (worklet, worker, wasm, model) comes from our origin: no CDN.
      const foreign: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(new URL(page.url()).origin) && !request.url().startsWith('blob:')) foreign.push(request.url());
      });
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(isolated);
      await startAgent(page);
      await expect.poll(() => recordedEvents(page, 'voice-speech-end').then((e) => e.length), { timeout: 30_000 }).toBe(3);
      const turns = await turnAudio(page);
      for (const audio of turns) expect(locate(audio, pcm.samples).correlation).toBeGreaterThan(SAME_SPEECH);
      expect(await recordedEvents(page, 'voice-error')).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await opened.close();
    }
  });
}
