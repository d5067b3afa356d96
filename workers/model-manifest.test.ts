import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manifestCheck, manifestLookup, manifestMismatch, type ManifestEntry } from './model-manifest.ts';

const bytes = new TextEncoder().encode('{"model_type":"whisper"}');
const entry: ManifestEntry = { path: 'Xenova/whisper-tiny.en/config.json', bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
const FOLDER = 'http://h/models';

/** A fake fetch serving one manifest (or a 404). */
function fakeFetch(files: ManifestEntry[] | null): typeof fetch & { calls: string[] } {
  const calls: string[] = [];
  const fetcher = async (input: RequestInfo | URL) => {
    calls.push(String(input));
    return files ? new Response(JSON.stringify({ files })) : new Response('Not found', { status: 404 });
  };
  return Object.assign(fetcher, { calls }) as typeof fetch & { calls: string[] };
}

describe('manifestLookup', () => {
  it('finds a file under the folder by its relative path, fetching the manifest once', async () => {
    const fetcher = fakeFetch([entry]);
    const lookup = manifestLookup(`${FOLDER}/`, fetcher);
    expect(await lookup(`${FOLDER}/Xenova/whisper-tiny.en/config.json`)).toEqual(entry);
    expect(await lookup(`${FOLDER}/Xenova/whisper-tiny.en/config.json?download=1`)).toEqual(entry);
    expect(await lookup(`${FOLDER}/Xenova/whisper-tiny.en/tokenizer.json`)).toBeUndefined();
    expect(await lookup('http://elsewhere/Xenova/whisper-tiny.en/config.json')).toBeUndefined();
    expect(fetcher.calls).toEqual([`${FOLDER}/voice-agent-models.json`]);
  });
  it('a manifest that is there but unreadable checks nothing and says so once', async () => {
    for (const [body, why] of [
      ['{"files": [', /not JSON/],
      ['{"entries": []}', /no "files" list/],
      ['{"files": [{"path": "a.onnx", "bytes": "12"}]}', /lacks path, bytes or sha256/],
    ] as const) {
      const warnings: string[] = [];
      const lookup = manifestLookup(FOLDER, async () => new Response(body), (message) => warnings.push(message));
      expect(await lookup(`${FOLDER}/${entry.path}`)).toBeUndefined();
      expect(await lookup(`${FOLDER}/a.onnx`)).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`${FOLDER}/voice-agent-models.json is not a usable model manifest`);
      expect(warnings[0]).toMatch(why);
    }
  });
  it('an HTML page served for the manifest (a static host\'s fallback) counts as no manifest, silently', async () => {
    const warnings: string[] = [];
    const html = new Response('<!doctype html><title>app</title>', { headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(await manifestLookup(FOLDER, async () => html, (m) => warnings.push(m))(`${FOLDER}/${entry.path}`)).toBeUndefined();
    expect(warnings).toEqual([]);
  });
  it('a manifest that answers a local-only (no-follow) fetch with a redirect checks nothing and says so', async () => {
    const warnings: string[] = [];
    // Node's answer to a `redirect: 'manual'` fetch; a browser's is an opaque redirect.
    const redirected = async () => new Response(null, { status: 302, headers: { location: 'https://cdn.elsewhere.example/voice-agent-models.json' } });
    expect(await manifestLookup(FOLDER, redirected, (m) => warnings.push(m))(`${FOLDER}/${entry.path}`)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('redirect');
    expect(warnings[0]).toContain(`${FOLDER}/voice-agent-models.json`);
  });
  it('a folder without a manifest (404), or no folder at all, checks nothing', async () => {
    expect(await manifestLookup(FOLDER, fakeFetch(null))(`${FOLDER}/${entry.path}`)).toBeUndefined();
    const fetcher = fakeFetch([entry]);
    expect(await manifestLookup(undefined, fetcher)(`${FOLDER}/${entry.path}`)).toBeUndefined();
    expect(fetcher.calls).toEqual([]);
  });
});

describe('manifestMismatch and manifestCheck', () => {
  it('accepts the listed bytes and names what differs otherwise', async () => {
    expect(await manifestMismatch(bytes, entry)).toBeUndefined();
    expect(await manifestMismatch(bytes.slice(1), entry)).toMatch(/23 bytes, voice-agent-models.json says 24/);
    const flipped = bytes.slice();
    flipped[3] = 0x21;
    expect(await manifestMismatch(flipped, entry)).toMatch(/SHA-256 is [0-9a-f]{12}…, voice-agent-models.json says [0-9a-f]{12}…/);
  });
  it('streams a matching download through unchanged and errors a damaged one at its end', async () => {
    const through = new Response(new Response(bytes).body!.pipeThrough(manifestCheck(entry, (why) => new Error(why))));
    expect(new Uint8Array(await through.arrayBuffer())).toEqual(bytes);
    const damaged = bytes.slice();
    damaged[0] = 0x5b;
    const failing = new Response(new Response(damaged).body!.pipeThrough(manifestCheck(entry, (why) => new Error(`bad: ${why}`))));
    await expect(failing.arrayBuffer()).rejects.toThrow(/bad: its SHA-256/);
  });
});
