/**
 * Sends a file as a model host (the Hugging Face hub, a CDN) does: with its length and
 * `Accept-Ranges`, and a single `Range` answered with 206 or 416. Both test servers use it:
 * `vite preview`'s `/models` middleware (vite.config.ts) and the plain static host
 * (static-server.ts). Ranges matter to the element: transformers.js probes every model file
 * with `bytes=0-0` before downloading it (a server that ignores ranges sends the whole file
 * for the probe), and an interrupted download resumes with `bytes=N-`.
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Sends `file` (which exists) with `contentType`, honouring a single byte range. */
export function sendFile(req: IncomingMessage, res: ServerResponse, file: string, contentType: string): void {
  const size = statSync(file).size;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Accept-Ranges', 'bytes');
  const range = byteRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.statusCode = 416;
    res.setHeader('Content-Range', `bytes */${size}`);
    res.end();
    return;
  }
  if (range) {
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  res.setHeader('Content-Length', String(Math.max(0, end - start + 1)));
  if (req.method === 'HEAD' || end < start) {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).pipe(res);
}

/**
 * The single `bytes=` range a request asks of a `size`-byte file (`start-`, `start-end`,
 * `-suffix`), clipped to the file. Undefined where RFC 9110 says to send the whole file: no
 * header, several ranges, or one that is not valid (`bytes=5-3`, a unit other than bytes).
 * 'unsatisfiable' (416) for a valid range wholly past the end, or a suffix of zero bytes.
 */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (!match[1] && !match[2])) return undefined;
  if (!match[1]) {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  if (match[2] && Number(match[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: match[2] ? Math.min(Number(match[2]), size - 1) : size - 1 };
}
