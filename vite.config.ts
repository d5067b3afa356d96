import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { sendFile } from './tests/e2e/support/send-file.ts';

/**
 * Dev/preview server set-up:
 *
 * - `/models/*` serves a local model folder (transformers.js / Hugging Face layout), so
 *   the demo and the tests run with no internet. Folder: `VOICE_AGENT_MODELS_DIR`, else
 *   `public/models` if present, else `../shared/models` (this project's test models).
 * - Cross-origin isolation headers (COOP/COEP) so onnxruntime may use threads; set
 *   `VOICE_AGENT_CROSS_ORIGIN_ISOLATION=off` to serve without them, as a third-party
 *   embed would be (the element must work both ways).
 */
const MODELS_DIR = [process.env.VOICE_AGENT_MODELS_DIR, 'public/models', '../shared/models']
  .filter((dir): dir is string => !!dir)
  .map((dir) => resolve(dir))
  .find((dir) => existsSync(dir));
/**
 * Model ids served from another folder when the folder has no copy under their own id.
 * The element's default English recognizer is the hub's `onnx-community/moonshine-tiny-ONNX`;
 * ../shared/models holds Moonshine AI's own int8 export of the same Moonshine tiny weights
 * (same file names, an encoder that also wants an attention mask, which the recognizer
 * worker reads from the session) under `moonshine-ai/moonshine-tiny-en`.
 */
const MODEL_ALIASES: Record<string, string> = {
  'onnx-community/moonshine-tiny-ONNX': 'moonshine-ai/moonshine-tiny-en',
};

/** The file for `relative` (`owner/model/…`) in `dir`, through an alias when the model's own folder is absent. */
function modelFile(dir: string, relative: string): string {
  const file = resolve(dir, relative);
  if (existsSync(file)) return file;
  const alias = Object.entries(MODEL_ALIASES).find(([id]) => relative.startsWith(`${id}/`));
  return alias && !existsSync(resolve(dir, alias[0])) ? resolve(dir, alias[1] + relative.slice(alias[0].length)) : file;
}
const CROSS_ORIGIN_ISOLATION = process.env.VOICE_AGENT_CROSS_ORIGIN_ISOLATION !== 'off';

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

function serveModels(): Connect.NextHandleFunction {
  return (req, res, next) => {
    if (!MODELS_DIR || !req.url?.startsWith('/models/')) return next();
    if (req.url === '/models/') {
      // A tiny index so pages can tell that local models are mounted.
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ models: readdirSync(MODELS_DIR) }));
      return;
    }
    const relative = decodeURIComponent(req.url.slice('/models/'.length).split('?')[0] ?? '');
    const file = modelFile(MODELS_DIR, relative);
    if (!file.startsWith(MODELS_DIR + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`Not found: /models/${relative}`);
      return;
    }
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    sendFile(req, res, file, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
  };
}

function isolationHeaders(): Connect.NextHandleFunction {
  return (_req, res, next) => {
    if (CROSS_ORIGIN_ISOLATION) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    next();
  };
}

/**
 * `public/` holds the demo's static files and, optionally, a self-hosted `public/models`
 * folder (git-ignored, often gigabytes). Vite would copy all of `public/` into `dist/`;
 * this copies it without `models/` (served by the middleware above instead) and without
 * the folder's own README.
 */
const PUBLIC_DIR = resolve('public');
const PUBLIC_SKIPPED = [resolve(PUBLIC_DIR, 'models'), resolve(PUBLIC_DIR, 'README.md')];

function copyPublicWithoutModels(): Plugin {
  let outDir = 'dist';
  return {
    name: 'voice-agent-public',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      if (!existsSync(PUBLIC_DIR)) return;
      for (const entry of readdirSync(PUBLIC_DIR)) {
        const source = resolve(PUBLIC_DIR, entry);
        if (PUBLIC_SKIPPED.includes(source)) continue;
        cpSync(source, resolve(outDir, entry), { recursive: true });
      }
    },
  };
}

function voiceAgentServer(): Plugin {
  return {
    name: 'voice-agent-server',
    configureServer(server) {
      server.middlewares.use(isolationHeaders());
      server.middlewares.use(serveModels());
    },
    configurePreviewServer(server) {
      server.middlewares.use(isolationHeaders());
      server.middlewares.use(serveModels());
    },
  };
}

export default defineConfig({
  // Relative base: dist/ can be copied under any path of any static host, and every
  // worker, worklet, wasm and model asset is found relative to voice-agent.js.
  base: './',
  plugins: [voiceAgentServer(), copyPublicWithoutModels()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    copyPublicDir: false,
    // Model and wasm files must stay files (never data: URLs): CSP and caching need that.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        index: resolve('index.html'),
        'voice-agent': resolve('src/index.ts'),
        'voice-agent.class': resolve('src/class.ts'),
      },
      output: {
        // The two library entries at the top of dist/ (the npm package's `exports`), their
        // shared chunks, workers and wasm in assets/, the demo page's own script in demo/
        // (left out of the package).
        entryFileNames: (chunk) => (chunk.name.startsWith('voice-agent') ? `${chunk.name}.js` : 'demo/[name]-[hash].js'),
      },
      // Keep the element's public exports even though no page imports them.
      preserveEntrySignatures: 'exports-only',
    },
  },
  // The dev server pre-bundles dependencies it finds by crawling from its entries. The
  // workers' dependencies (onnxruntime-web, transformers.js) are only met when a worker
  // starts, and finding them then makes Vite reload the page: on a fresh clone the first
  // `npm start` lost the visitor's first click. Crawling the workers too finds them all
  // up front.
  optimizeDeps: {
    entries: ['index.html', 'workers/*.worker.ts'],
    include: ['@huggingface/transformers', 'onnxruntime-web/wasm', 'comlink', 'lit', 'lit/decorators.js'],
  },
  server: { port: 5173 },
  preview: { port: 4173 },
  test: {
    include: ['src/**/*.test.ts', 'workers/**/*.test.ts', 'tests/**/*.test.ts', 'bin/**/*.test.mjs'],
    environment: 'node',
  },
});


