/**
 * Model downloads cut off mid-file, injected at the network boundary: a small Node proxy
 * (port 0) in front of the test server's model files destroys the socket part-way through
 * a file. Real models; the fake mic plays the JFK recording.
 *
 * Cut once per file: every file is resumed (a Range request; the test server honours
 * it), the models load and the speech is transcribed. Always cut: after a few tries,
 * `model-load-failed` naming the file.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { errorCodes } from './support/agent.ts';
import { ORIGIN, agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';

test.describe.configure({ timeout: 180_000 });

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
    const times = (seen.get(path) ?? 0) + 1;
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
        res.write(part);
        if (sent >= CUT_AFTER) {
          cut.push(path);
          up.destroy();
          res.socket?.destroy();
        }
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
