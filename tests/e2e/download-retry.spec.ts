/**
 * Model downloads cut off mid-file, injected at the network boundary: a small Node proxy
 * (port 0) in front of the test server's model files destroys the socket part-way through
 * a file. Real models; the fake mic plays the JFK recording.
 *
 * Cut once per file (Whisper's two): each is resumed (a Range request from the byte it
 * stopped at; the test server honours it, as the hub and CDNs do), the recognizer loads and the speech is heard. Always cut: after a few tries,
 * `model-load-failed` naming the file.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { errorCodes, finalSpeech, startAgent, waitForPlayback } from './support/agent.ts';
import { ORIGIN, agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { durationSeconds, paddedFixture, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });

/** The range transformers.js asks for to learn that a file exists (and its size) before downloading it. */
const PROBE = 'bytes=0-0';

/** Bytes of a file the proxy lets through before it destroys the connection. */
const CUT_AFTER = 256 * 1024;

interface CuttingProxy {
  readonly url: string;
  /** Every request: path and its Range header (if any). */
  readonly requests: { path: string; range: string | undefined }[];
  /** Files (by path) whose connection was cut. */
  readonly cut: string[];
  close(): Promise<void>;
}

/** A proxy to the test server that cuts a `.onnx` response after {@link CUT_AFTER} bytes when `shouldCut` says so. */
async function cuttingProxy(shouldCut: (path: string, timesSeen: number) => boolean): Promise<CuttingProxy> {
  const requests: CuttingProxy['requests'] = [];
  const cut: string[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const range = req.headers.range;
    requests.push({ path, range });
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*',
      'access-control-expose-headers': '*',
      'cross-origin-resource-policy': 'cross-origin',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    // Downloads of the file so far; transformers.js' one-byte probe (`bytes=0-0`) is not one.
    const times = (seen.get(path) ?? 0) + (range === PROBE ? 0 : 1);
    seen.set(path, times);
    const upstream = httpRequest(`${ORIGIN}${path}`, { headers: range ? { range } : {} }, (up) => {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, ...cors });
      if (!path.endsWith('.onnx') || !shouldCut(path, times)) {
        up.pipe(res);
        return;
      }
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (sent >= CUT_AFTER) return;
        const part = chunk.subarray(0, CUT_AFTER - sent);
        sent += part.byteLength;
        if (sent < CUT_AFTER) {
          res.write(part);
          return;
        }
        cut.push(path);
        up.destroy();
        // A second after the last bytes went out, as a stalled connection dies. (Destroyed at
        // once, the page here got none of the bytes and the resume began at byte 0.)
        res.write(part, () => setTimeout(() => res.socket?.destroy(), 1000));
      });
      up.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    upstream.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cut,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('a model file always cut off: model-load-failed naming the file', async () => {
  const proxy = await cuttingProxy((path) => path.includes('whisper-tiny.en') && path.includes('encoder'));
  const opened = await openAgentPage({
    body: agentMarkup(`model-base-url="${proxy.url}/models"`),
    permissions: ['local-network-access'],
  });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload().catch(() => {}));
    await expect.poll(() => errorCodes(page), { timeout: 120_000 }).toContain('model-load-failed');
    const failure = (await recordedEvents(page, 'voice-error')).find((e) => e.detail['code'] === 'model-load-failed')!;
    expect(String(failure.detail['message'])).toMatch(/encoder_model\w*\.onnx/);
    // It was tried more than once before giving up.
    const encoder = proxy.cut.find((p) => p.includes('encoder'))!;
    expect(proxy.requests.filter((r) => r.path === encoder).length).toBeGreaterThan(1);
  } finally {
    await opened.close();
    await proxy.close();
  }
});

test('each recognizer file cut off once: resumed where it stopped, the recognizer loads and the speech is heard', async () => {
  const proxy = await cuttingProxy((path, timesSeen) => path.includes('whisper-tiny.en') && timesSeen === 1);
  const { path, pcm } = paddedFixture(JFK, 6, 1);
  const opened = await openAgentPage({
    micWav: path,
    body: agentMarkup(`model-base-url="${proxy.url}/models"`),
    permissions: ['local-network-access'],
  });
  try {
    const { page } = opened;
    const t0 = await startAgent(page);
    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5, 120);
    // Both of Whisper's files were cut, and each asked again from where it stopped.
    const cut = proxy.cut.filter((p) => p.endsWith('.onnx')).sort();
    expect(cut.map((p) => p.split('/').pop())).toEqual(['decoder_model_merged_quantized.onnx', 'encoder_model_quantized.onnx']);
    for (const file of cut) {
      const ranges = proxy.requests.filter((r) => r.path === file && r.range !== PROBE).map((r) => r.range);
      expect(ranges, file).toHaveLength(2);
      expect(ranges[0]).toBeUndefined();
      // From the first byte not received (what reached the browser before the socket died: at most CUT_AFTER).
      const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
      expect(from, ranges[1]).toBeGreaterThan(0);
      expect(from).toBeLessThanOrEqual(CUT_AFTER);
    }
    // The pieces make the whole model: it hears JFK (a byte out of place and it would not load or would mishear).
    const heard = (await finalSpeech(page)).join(' ');
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
    expect(await errorCodes(page)).toEqual([]);
  } finally {
    await opened.close();
    await proxy.close();
  }
});
