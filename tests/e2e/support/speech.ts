/**
 * Page-side helpers for the speaking specs: a host page for `say()`, the per-clause debug
 * records (with each clause's PCM), and the element's speech events.
 */
import type { Page } from '@playwright/test';
import type { TtsChunkRecord } from '../../../src/platform/protocol.ts';
import { AUDIO_TAP_SCRIPT } from './audio-tap.ts';
import { ORIGIN, openAgentPage, recordedEvents, type AgentPageOptions, type OpenedPage } from './browser.ts';

/** Keeps every `voice-debug` tts-chunk record (the element needs the `debug` attribute). */
export const CHUNK_RECORDER_SCRIPT = `(() => {
  window.__ttsChunks = [];
  document.addEventListener('voice-debug', (event) => {
    if (event.detail.kind === 'tts-chunk') window.__ttsChunks.push(event.detail.chunk);
  });
})();`;

export interface SpeakingPageOptions extends AgentPageOptions {
  /** Extra attributes for the element. */
  readonly attributes?: string;
}

/**
 * A host page with `<voice-agent mode="text" debug>` using the real models mounted at
 * /models, the output tap and the chunk recorder installed.
 */
export function openSpeakingPage(options: SpeakingPageOptions = {}): Promise<OpenedPage> {
  const origin = options.origin ?? ORIGIN;
  return openAgentPage({
    ...options,
    body:
      options.body ??
      `<voice-agent mode="text" debug model-base-url="${origin}/models" ${options.attributes ?? ''}></voice-agent>`,
    initScripts: [AUDIO_TAP_SCRIPT, CHUNK_RECORDER_SCRIPT, ...(options.initScripts ?? [])],
  });
}

export type ChunkRecord = Omit<TtsChunkRecord, 'pcm'> & { pcm: Float32Array };

/** The clause records so far, PCM included. */
export async function chunkRecords(page: Page): Promise<ChunkRecord[]> {
  const raw = await page.evaluate(() =>
    (window as unknown as { __ttsChunks: (TtsChunkRecord & { pcm: Float32Array })[] }).__ttsChunks.map((c) => ({
      ...c,
      pcm: Array.from(c.pcm),
    })),
  );
  return raw.map((c) => ({ ...c, pcm: Float32Array.from(c.pcm) }));
}

/** Calls `say(text)` without waiting; the returned promise settles with the page's. */
export function sayInPage(page: Page, text: string): Promise<void> {
  return page.evaluate((t) => document.querySelector('voice-agent')!.say(t), text);
}

export async function responseEnds(page: Page): Promise<{ text: string; heardText: string; interrupted: boolean }[]> {
  return (await recordedEvents(page, 'voice-response-end')).map(
    (e) => e.detail as unknown as { text: string; heardText: string; interrupted: boolean },
  );
}

export async function responses(page: Page): Promise<{ delta: string; text: string }[]> {
  return (await recordedEvents(page, 'voice-response')).map((e) => e.detail as unknown as { delta: string; text: string });
}
