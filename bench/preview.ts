/** What every browser benchmark starts with: the built element served on a port of its own. */
import { existsSync } from 'node:fs';
import { preview } from 'vite';

export interface Preview {
  /** e.g. `http://127.0.0.1:4190`. */
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves `dist/` (with `/models`, as `npm run preview` does) on `port`; fails if it is not built. */
export async function startPreview(port: number): Promise<Preview> {
  if (!existsSync('dist/voice-agent.js')) throw new Error('dist/ is missing: run `npm run build` first.');
  const server = await preview({ preview: { port, strictPort: true, host: '127.0.0.1' }, logLevel: 'warn' });
  return { origin: `http://127.0.0.1:${port}`, close: () => server.close() };
}
