/**
 * The element's model cache, end to end with the real models: page code lists what is
 * cached (per model, bytes — checked against the files on disk) and clears it; a junk
 * entry already in Cache Storage is dropped and re-fetched without the visitor noticing;
 * a storage quota too small for the models gives `storage-full` naming a file, leaves no
 * half-written entry, and costs nothing else (the turn is still transcribed).
 *
 * Faults are injected at the browser boundary: Cache Storage overwritten from the page,
 * the origin's quota lowered through the DevTools protocol (`Storage.overrideQuotaForOrigin`).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { errorCodes, finalSpeech, reloadAndHearOneTurn, startAgent, waitForPlayback } from './support/agent.ts';
import { ORIGIN, agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { MODELS_DIR, durationSeconds, paddedFixture } from './support/wav.ts';

test.describe.configure({ timeout: 240_000 });

interface Listed {
  readonly model: string;
  readonly cache: string;
  readonly urls: readonly string[];
  readonly bytes: number;
}

const listCached = (page: Page) =>
  page.evaluate(() => (customElements.get('voice-agent') as unknown as { cachedModels(): Promise<Listed[]> }).cachedModels());

/** Each cached entry's byte length, read back from Cache Storage. */
const cachedEntryBytes = (page: Page) =>
  page.evaluate(async () => {
    const sizes: Record<string, number> = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) sizes[request.url] = (await (await cache.match(request))!.arrayBuffer()).byteLength;
    }
    return sizes;
  });

/** The size on disk of the file the test server serves at `url`: /models/ from ../shared/models, the rest from dist/. */
function servedBytes(url: string): number {
  const path = decodeURIComponent(new URL(url).pathname);
  if (path.startsWith('/models/')) return statSync(join(MODELS_DIR, path.slice('/models/'.length))).size;
  return statSync(join(DIST_DIR, path)).size;
}

const DIST_DIR = fileURLToPath(new URL('../../dist/', import.meta.url));

const ENCODER = /whisper-tiny\.en\/onnx\/encoder_model_quantized\.onnx$/;

test('page code lists the cached models with their real sizes; a junk cached file heals itself; clearing empties the cache', async () => {
  const { path, pcm } = paddedFixture('english-other/en_goforward.wav');
  const opened = await openAgentPage({ micWav: path, body: agentMarkup() });
  try {
    const { page } = opened;
    expect(await listCached(page)).toEqual([]);
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    // The element's own files are written after their load resolves: wait for the voice.
    await expect.poll(async () => (await listCached(page)).map((m) => m.model), { timeout: 20_000 }).toContain('en_US-joe-medium');

    const listed = await listCached(page);
    const whisper = listed.find((m) => m.model === 'Xenova/whisper-tiny.en')!;
    expect(whisper.urls.some((url) => ENCODER.test(url))).toBe(true);
    for (const model of listed) {
      // Every listed byte is a byte of a file the server has.
      expect(model.bytes, model.model).toBe(model.urls.reduce((sum, url) => sum + servedBytes(url), 0));
    }
    expect(listed.map((m) => m.bytes)).toEqual([...listed.map((m) => m.bytes)].sort((a, b) => b - a));

    // Junk where the encoder was (a disk fault, a stale file): the next visit still hears.
    const encoderUrl = whisper.urls.find((url) => ENCODER.test(url))!;
    await page.evaluate(async (url) => {
      const cache = await caches.open('transformers-cache');
      await cache.put(url, new Response(new Uint8Array(4096).fill(0x5a), { headers: { 'content-length': '4096' } }));
    }, encoderUrl);
    // Page and worker console messages (Chromium reports a dedicated worker's on its page).
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    await reloadAndHearOneTurn(page, durationSeconds(pcm), 'go forward');
    // Reported by name, though nothing failed.
    expect(warnings.join('\n')).toMatch(/cached copy of encoder_model_quantized\.onnx \(.+\) was dropped and is downloaded again: it does not start like an ONNX model/);
    await expect.poll(async () => (await cachedEntryBytes(page))[encoderUrl], { timeout: 20_000 }).toBe(servedBytes(encoderUrl));

    const deleted = await page.evaluate(() => document.querySelector('voice-agent')!.clearModelCache());
    expect(deleted).toBe(listed.reduce((sum, m) => sum + m.urls.length, 0));
    expect(await listCached(page)).toEqual([]);
    expect(await cachedEntryBytes(page)).toEqual({});
  } finally {
    await opened.close();
  }
});

test('a storage quota too small for the models: storage-full names a file, nothing is half-written, the turn is still heard', async () => {
  const { path, pcm } = paddedFixture('english-other/en_goforward.wav');
  const opened = await openAgentPage({ micWav: path, body: agentMarkup() });
  try {
    const { page } = opened;
    const devtools = await page.context().newCDPSession(page);
    // Room for the small JSON files, not for a model's weights.
    await devtools.send('Storage.overrideQuotaForOrigin', { origin: ORIGIN, quotaSize: 2 * 1024 * 1024 });
    const t0 = await startAgent(page);
    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5, 90);
    await expect.poll(() => finalSpeech(page), { timeout: 60_000 }).toHaveLength(1);
    expect((await finalSpeech(page))[0]!.toLowerCase()).toContain('go forward');

    await expect.poll(() => errorCodes(page), { timeout: 20_000 }).toContain('storage-full');
    expect(new Set(await errorCodes(page))).toEqual(new Set(['storage-full']));
    const full = (await recordedEvents(page, 'voice-error')).filter((e) => e.detail['code'] === 'storage-full');
    for (const event of full) expect(String(event.detail['message'])).toMatch(/^Storage is full: [\w.-]+\.(onnx|json|data|wasm) \(/);
    expect(await page.evaluate(() => document.querySelector('voice-agent')!.state)).not.toBe('error');
    // What is in the cache is whole; what did not fit is not there at all.
    const entries = await cachedEntryBytes(page);
    for (const [url, bytes] of Object.entries(entries)) expect(bytes, url).toBe(servedBytes(url));
    expect(Object.keys(entries).some((url) => ENCODER.test(url))).toBe(false);
  } finally {
    await opened.close();
  }
});
