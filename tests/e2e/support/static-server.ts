/**
 * A plain static file server (`node:http` only), as a page author's static host would be:
 * files with their content types and byte ranges, and nothing else — no COOP/COEP, no SPA fallback, no
 * transforms. Mounts map URL prefixes to folders (e.g. `/models/` → ../shared/models).
 * Every response allows any origin (CORS and CORP), so pages elsewhere can load models
 * from it.
 */
import { existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { sendFile } from './send-file.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.data': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface StaticServerOptions {
  /** Headers added to every response (e.g. a Content-Security-Policy, COOP/COEP). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Answers a request before the mounts are looked at (an API route, a report endpoint);
   * returns true when it handled it. The `headers` are already set on `res`.
   */
  readonly handle?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
}

export interface StaticServer {
  readonly origin: string;
  /** Paths requested so far (with their status), for tests that check what a page loaded. */
  readonly requests: readonly { readonly path: string; readonly status: number }[];
  close(): Promise<void>;
}

/**
 * Serves `mounts` (URL prefix → folder; the longest matching prefix wins) on 127.0.0.1:`port`,
 * with `options.headers` on every response and `options.handle` answering first.
 */
export async function startStaticServer(
  mounts: Readonly<Record<string, string>>,
  port: number,
  options: StaticServerOptions = {},
): Promise<StaticServer> {
  const prefixes = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const requests: { path: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
    if (options.handle?.(req, res, path)) {
      requests.push({ path, status: res.statusCode });
      return;
    }
    const mount = prefixes.find(([prefix]) => path.startsWith(prefix));
    let file = mount ? resolve(join(mount[1], path.slice(mount[0].length))) : '';
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    const inside = mount && (file === mount[1] || file.startsWith(mount[1] + sep));
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      requests.push({ path, status: 404 });
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`Not found: ${path}`);
      return;
    }
    sendFile(req, res, file, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
    requests.push({ path, status: res.statusCode });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
