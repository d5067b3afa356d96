#!/usr/bin/env node
/**
 * `npx voice-agent models …`: assembles the model files a configuration of <voice-agent>
 * needs into one static folder (the layout `model-base-url` expects) and writes
 * `voice-agent-models.json` beside them: every file with its size and SHA-256, so a host
 * (or a later check in the element) can tell a whole copy from a damaged one.
 *
 * Sources: a local folder in the same layout (`--from`, e.g. a clone of the hub repos or
 * ../shared/models), or the Hugging Face hub where it is reachable (`--from hub`).
 *
 * Plain Node (20+), no dependencies: it ships in the npm package as the `voice-agent` bin.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

export const MANIFEST_NAME = 'voice-agent-models.json';
const HUB = 'https://huggingface.co';

/** The ladder's defaults (src/hearing/asr-plan.ts, src/speaking/piper-voice.ts, src/turns/smart-turn-protocol.ts). */
export const DEFAULTS = {
  asr: ['onnx-community/moonshine-tiny-ONNX', 'Xenova/whisper-base'],
  voice: 'en_US-joe-medium',
  smartTurn: { model: 'pipecat-ai/smart-turn-v3', file: 'smart-turn-v3.2-cpu.onnx' },
};

/** transformers.js' file suffix for each dtype (`onnx/encoder_model_quantized.onnx` for q8). */
const DTYPE_SUFFIX = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4' };

/** The files of a transformers.js model folder a pipeline reads (the optional ones when present). */
const TRANSFORMERS_FILES = [
  'config.json',
  'generation_config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'LICENSE',
];

/** `en_US-joe-medium` → its two files in the rhasspy/piper-voices layout. */
export function voiceFiles(id) {
  const match = /^([a-z]{2,3})_([A-Z]{2})-([A-Za-z0-9_]+)-(x_low|low|medium|high)$/.exec(id);
  if (!match) throw new Error(`"${id}" is not a Piper voice id (like en_US-joe-medium).`);
  const [, family, region, speaker, quality] = match;
  const model = `rhasspy/piper-voices/${family}/${family}_${region}/${speaker}/${quality}/${id}.onnx`;
  return [model, `${model}.json`];
}

/**
 * What to assemble, as paths relative to the model root: for each transformers.js model,
 * its JSON files (optional ones skipped when the source lacks them) and its `onnx/*.onnx`
 * weights in `dtype`; the voice's two files; Smart Turn's one.
 */
export function planFiles({ asr = DEFAULTS.asr, llm = [], dtype = 'q8', voice = DEFAULTS.voice, smartTurn = false }) {
  const suffix = DTYPE_SUFFIX[dtype];
  if (suffix === undefined) throw new Error(`Unknown dtype "${dtype}" (one of ${Object.keys(DTYPE_SUFFIX).join(', ')}).`);
  const models = [...asr, ...llm].map((model) => ({
    model,
    required: ['config.json'].map((file) => `${model}/${file}`),
    optional: TRANSFORMERS_FILES.filter((file) => file !== 'config.json').map((file) => `${model}/${file}`),
    weights: { folder: `${model}/onnx`, suffix },
  }));
  const files = [...(voice ? voiceFiles(voice) : []), ...(smartTurn ? [`${DEFAULTS.smartTurn.model}/${DEFAULTS.smartTurn.file}`] : [])];
  return { models, files };
}

/** True for `encoder_model_quantized.onnx` with suffix `_quantized`, `encoder_model.onnx` with ''. */
export function hasSuffix(file, suffix) {
  if (!file.endsWith('.onnx')) return false;
  const stem = file.slice(0, -'.onnx'.length);
  if (suffix) return stem.endsWith(suffix);
  return !Object.values(DTYPE_SUFFIX).some((other) => other && stem.endsWith(other));
}

/** A source of files: a local folder, or the hub over HTTPS. */
function localSource(root) {
  return {
    describe: root,
    async list(folder) {
      const path = join(root, folder);
      return existsSync(path) ? readdirSync(path) : [];
    },
    async exists(path) {
      return existsSync(join(root, path));
    },
    async copy(path, to) {
      copyFileSync(join(root, path), to);
    },
  };
}

function hubSource() {
  const split = (path) => {
    const [org, name, ...rest] = path.split('/');
    return { repo: `${org}/${name}`, file: rest.join('/') };
  };
  return {
    describe: HUB,
    async list(folder) {
      const { repo, file } = split(folder);
      const response = await fetch(`${HUB}/api/models/${repo}/tree/main/${file}`);
      if (!response.ok) return [];
      return (await response.json()).map((entry) => entry.path.split('/').pop());
    },
    async exists(path) {
      const { repo, file } = split(path);
      return (await fetch(`${HUB}/${repo}/resolve/main/${file}`, { method: 'HEAD' })).ok;
    },
    async copy(path, to) {
      const { repo, file } = split(path);
      // The voices' revision is pinned, as in the element (src/speaking/piper-voice.ts).
      const revision = repo === 'rhasspy/piper-voices' ? 'v1.0.0' : 'main';
      const response = await fetch(`${HUB}/${repo}/resolve/${revision}/${file}`);
      if (!response.ok || !response.body) throw new Error(`${path}: HTTP ${response.status}`);
      await pipeline(Readable.fromWeb(response.body), createWriteStream(to));
    },
  };
}

async function sha256(path) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Copies the planned files from `from` ('hub' or a folder) into `out` and writes the
 * manifest. Throws naming every required file the source lacks (nothing is half-assembled
 * silently: the manifest is written only when every required file is there).
 */
export async function assemble({ from, out, plan, log = () => {} }) {
  const source = from === 'hub' ? hubSource() : localSource(from);
  const wanted = [...plan.files];
  const missing = [];
  for (const model of plan.models) {
    for (const path of model.required) wanted.push(path);
    for (const path of model.optional) if (await source.exists(path)) wanted.push(path);
    const weights = (await source.list(model.weights.folder)).filter((file) => hasSuffix(file, model.weights.suffix));
    if (weights.length === 0) missing.push(`${model.weights.folder}/*${model.weights.suffix}.onnx`);
    for (const file of weights) wanted.push(`${model.weights.folder}/${file}`);
  }
  for (const path of wanted) if (!missing.includes(path) && !(await source.exists(path))) missing.push(path);
  if (missing.length > 0) throw new Error(`Not in ${source.describe}: ${missing.join(', ')}`);
  const files = [];
  for (const path of wanted) {
    const to = join(out, ...path.split('/'));
    mkdirSync(dirname(to), { recursive: true });
    await source.copy(path, to);
    files.push({ path, bytes: statSync(to).size, sha256: await sha256(to) });
    log(`${path} (${statSync(to).size} bytes)`);
  }
  const manifest = { generator: 'voice-agent models', files };
  writeFileSync(join(out, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Every file under `out` checked against its manifest: the paths that are missing or differ. */
export async function verify(out, manifest) {
  const bad = [];
  for (const file of manifest.files) {
    const path = join(out, ...file.path.split('/'));
    if (!existsSync(path) || statSync(path).size !== file.bytes || (await sha256(path)) !== file.sha256) bad.push(file.path);
  }
  return bad;
}

const USAGE = `Usage: voice-agent models --out <folder> [--from <folder>|hub] [options]

Assembles the model files a <voice-agent> configuration needs into <folder> (point the
element's model-base-url at where you serve it) and writes ${MANIFEST_NAME} there
(every file's path, size and SHA-256).

  --from <folder>|hub   where the files come from (default: hub): a folder in the hub layout
                        ({org}/{model}/…, rhasspy/piper-voices/…), or huggingface.co
  --asr <model id>      a recognizer to include; repeat for several
                        (default: ${DEFAULTS.asr.join(' and ')}, the ladder's WASM choices)
  --llm <model id>      a local-llm model to include; repeat for several
  --dtype <dtype>       weights to take: ${Object.keys(DTYPE_SUFFIX).join(', ')} (default q8)
  --voice <voice id>    the Piper voice (default ${DEFAULTS.voice}); --voice none to skip
  --smart-turn          include Smart Turn (end-of-turn="smart-turn")
  --verify              only check <folder> against its ${MANIFEST_NAME}`;

export function parseArgs(argv) {
  const options = { asr: [], llm: [], smartTurn: false, verify: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value.`);
      return next;
    };
    if (flag === '--out') options.out = value();
    else if (flag === '--from') options.from = value();
    else if (flag === '--asr') options.asr.push(value());
    else if (flag === '--llm') options.llm.push(value());
    else if (flag === '--dtype') options.dtype = value();
    else if (flag === '--voice') options.voice = value();
    else if (flag === '--smart-turn') options.smartTurn = true;
    else if (flag === '--verify') options.verify = true;
    else throw new Error(`Unknown option ${flag}.`);
  }
  if (!options.out) throw new Error('--out <folder> is required.');
  return {
    ...options,
    from: options.from ?? 'hub',
    asr: options.asr.length > 0 ? options.asr : DEFAULTS.asr,
    voice: options.voice === 'none' ? '' : (options.voice ?? DEFAULTS.voice),
  };
}

async function main(argv) {
  if (argv[0] !== 'models' || argv.includes('--help')) {
    console.log(USAGE);
    return argv[0] === 'models' ? 0 : 1;
  }
  const options = parseArgs(argv.slice(1));
  if (options.verify) {
    const manifest = JSON.parse(readFileSync(join(options.out, MANIFEST_NAME), 'utf8'));
    const bad = await verify(options.out, manifest);
    for (const path of bad) console.error(`damaged or missing: ${path}`);
    console.log(`${manifest.files.length - bad.length} of ${manifest.files.length} files match ${MANIFEST_NAME}.`);
    return bad.length === 0 ? 0 : 1;
  }
  const plan = planFiles(options);
  const manifest = await assemble({ from: options.from, out: options.out, plan, log: (line) => console.log(line) });
  const total = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  console.log(`${manifest.files.length} files, ${(total / 1e6).toFixed(1)} MB, in ${relative(process.cwd(), options.out) || '.'}${sep}; manifest ${MANIFEST_NAME}.`);
  return 0;
}

// Run as a command (npx resolves the bin through a symlink), not when imported by tests.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`voice-agent: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
