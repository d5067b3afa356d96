/**
 * A self-hosted model folder made by `npx voice-agent models` (from ../shared/models),
 * with its `voice-agent-models.json`, served by a plain static host: the element checks
 * the recognizer's files against it. A file on the host that differs from the manifest (one
 * byte, same length, valid model header) fails the load naming the file; the same damage
 * in a copy already in Cache Storage is dropped and downloaded again, and the turn is heard.
 * The voice is checked the same way (its files go through the element's own cache).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { errorCodes, reloadAndHearOneTurn } from './support/agent.ts';
import { PORT, agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { startStaticServer, type StaticServer } from './support/static-server.ts';
import { MODELS_DIR, SCRATCH_DIR, durationSeconds, paddedFixture } from './support/wav.ts';

test.describe.configure({ mode: 'serial', timeout: 180_000 });

const BIN = fileURLToPath(new URL('../../bin/voice-agent.mjs', import.meta.url));
const ENCODER = 'Xenova/whisper-tiny.en/onnx/encoder_model_quantized.onnx';
const VOICE = 'rhasspy/piper-voices/en/en_US/joe/medium/en_US-joe-medium.onnx';
const HOST_PORT = PORT + 30; // clear of package.spec (PORT + 1…3) and the benches (4185–4198)

let intact = '';
let tampered = '';
let tamperedVoice = '';
let host: StaticServer | undefined;

/** `file` with one byte flipped near its end: same length, same model header, different SHA-256. */
function flipOneByte(file: string): void {
  const bytes = readFileSync(file);
  bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
  writeFileSync(file, bytes);
}

test.beforeAll(() => {
  const root = join(SCRATCH_DIR, 'model-manifest');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  intact = join(root, 'intact');
  execFileSync(process.execPath, [BIN, 'models', '--out', intact, '--from', MODELS_DIR, '--asr', 'Xenova/whisper-tiny.en']);
  tampered = join(root, 'tampered');
  cpSync(intact, tampered, { recursive: true });
  flipOneByte(join(tampered, ENCODER));
  tamperedVoice = join(root, 'tampered-voice');
  cpSync(intact, tamperedVoice, { recursive: true });
  flipOneByte(join(tamperedVoice, VOICE));
});

test.afterAll(async () => {
  await host?.close();
});

async function serve(): Promise<StaticServer> {
  host ??= await startStaticServer({ '/intact/': intact, '/tampered/': tampered, '/tampered-voice/': tamperedVoice }, HOST_PORT);
  return host;
}

const markup = (folder: string) => agentMarkup(`model-base-url="${host!.origin}/${folder}"`);

test('a file on the host that differs from the manifest fails the load, naming the file', async () => {
  await serve();
  const opened = await openAgentPage({ body: markup('tampered'), permissions: ['local-network-access'] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload().catch(() => {}));
    await expect.poll(() => errorCodes(page), { timeout: 120_000 }).toContain('model-load-failed');
    const failure = (await recordedEvents(page, 'voice-error')).find((e) => e.detail['code'] === 'model-load-failed')!;
    expect(String(failure.detail['message'])).toMatch(/encoder_model_quantized\.onnx .*does not match the folder's voice-agent-models\.json: its SHA-256/);
    expect(host!.requests.some((r) => r.path === '/tampered/voice-agent-models.json' && r.status === 200)).toBe(true);
  } finally {
    await opened.close();
  }
});

test('a voice file on the host that differs from the manifest fails the voice load, naming the file', async () => {
  await serve();
  const opened = await openAgentPage({ body: markup('tampered-voice'), permissions: ['local-network-access'] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload().catch(() => {}));
    await expect.poll(() => errorCodes(page), { timeout: 120_000 }).toContain('model-load-failed');
    const failures = (await recordedEvents(page, 'voice-error')).filter((e) => e.detail['code'] === 'model-load-failed');
    expect(failures.map((e) => String(e.detail['message'])).join('\n')).toMatch(
      /en_US-joe-medium\.onnx .*the voice en_US-joe-medium, does not match the folder's voice-agent-models\.json: its SHA-256/,
    );
    // Nothing of the damaged file was kept for the next visit.
    const voiceUrl = `${host!.origin}/tampered-voice/${VOICE}`;
    const kept = await page.evaluate(async (key) => Boolean(await (await caches.open('voice-agent-models')).match(key)), voiceUrl);
    expect(kept).toBe(false);
  } finally {
    await opened.close();
  }
});

/** SHA-256 (hex) of the cached copy of `url`, computed in the page. */
const cachedSha256 = (page: Page, url: string) =>
  page.evaluate(async (key) => {
    const cached = await (await caches.open('transformers-cache')).match(key);
    if (!cached) return null;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await cached.arrayBuffer()));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  }, url);

test('a cached copy that differs from the manifest is dropped and downloaded again; the turn is heard', async () => {
  await serve();
  const { path, pcm } = paddedFixture('english-other/en_goforward.wav');
  const opened = await openAgentPage({ micWav: path, body: markup('intact'), permissions: ['local-network-access'] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const encoderUrl = `${host!.origin}/intact/${ENCODER}`;
    const manifest = JSON.parse(readFileSync(join(intact, 'voice-agent-models.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    const expected = manifest.files.find((f) => f.path === ENCODER)!.sha256;
    await expect.poll(() => cachedSha256(page, encoderUrl), { timeout: 20_000 }).toBe(expected);

    // Damage the cached copy the way a disk might: one byte, same length, header intact.
    await page.evaluate(async (key) => {
      const cache = await caches.open('transformers-cache');
      const cached = (await cache.match(key))!;
      const bytes = new Uint8Array(await cached.arrayBuffer());
      bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
      await cache.put(key, new Response(bytes, { headers: cached.headers }));
    }, encoderUrl);
    expect(await cachedSha256(page, encoderUrl)).not.toBe(expected);
    const fetchedBefore = host!.requests.filter((r) => r.path === `/intact/${ENCODER}`).length;
    // transformers.js probes the file with `Range: bytes=0-0` before the GET; the host answers
    // it with that one byte (206), not with the whole file a second time.
    expect(host!.requests.filter((r) => r.path === `/intact/${ENCODER}`).map((r) => r.status)).toEqual([206, 200]);

    await reloadAndHearOneTurn(page, durationSeconds(pcm), 'go forward');
    // Downloaded once more: the same requests as the first time (the probe and the GET).
    expect(fetchedBefore).toBeGreaterThan(0);
    expect(host!.requests.filter((r) => r.path === `/intact/${ENCODER}`).length).toBe(2 * fetchedBefore);
    await expect.poll(() => cachedSha256(page, encoderUrl), { timeout: 20_000 }).toBe(expected);
  } finally {
    await opened.close();
  }
});
