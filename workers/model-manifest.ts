/**
 * A self-hosted model folder made by `npx voice-agent models` carries
 * `voice-agent-models.json`: every file's path (relative to the folder), size and SHA-256.
 * When the folder has one, what is downloaded and what is found in Cache Storage is checked
 * against it: a download that differs fails naming the file, a cached copy that differs is
 * dropped and downloaded again. A folder without one is not checked (the manifest is
 * optional; hub downloads have none).
 */
import { fetchFollowingNoRedirect, isRedirect } from '../src/platform/local-only.ts';

export const MANIFEST_NAME = 'voice-agent-models.json';

export interface ManifestEntry {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Looks up the manifest entry of a file URL (undefined: not listed, or no manifest). */
export type ManifestLookup = (url: string) => Promise<ManifestEntry | undefined>;

const NO_ENTRY: ManifestLookup = async () => undefined;

/** The files a manifest lists, or the reason it is not one. */
function manifestFiles(json: unknown): ManifestEntry[] | string {
  const files = (json as { files?: unknown } | null)?.files;
  if (!Array.isArray(files)) return 'it has no "files" list';
  for (const entry of files as Partial<ManifestEntry>[]) {
    if (typeof entry?.path !== 'string' || typeof entry.bytes !== 'number' || typeof entry.sha256 !== 'string') {
      return `an entry lacks path, bytes or sha256 (${JSON.stringify(entry).slice(0, 80)})`;
    }
  }
  return files as ManifestEntry[];
}

/**
 * The lookup for a model folder: its manifest is fetched once (per worker and folder) with
 * `fetchManifest`. A missing one (404, or an HTML page a static host serves for any path)
 * means "not checked". One that is there but cannot be read means the same — the folder's
 * files still load — but `warn` says so: the page author meant the files to be checked.
 */
export function manifestLookup(folderUrl: string | undefined, fetchManifest: typeof fetch, warn: (message: string) => void = console.warn): ManifestLookup {
  if (!folderUrl) return NO_ENTRY;
  const folder = folderUrl.replace(/\/+$/, '');
  const url = `${folder}/${MANIFEST_NAME}`;
  const unreadable = (reason: string) => {
    warn(`voice-agent: ${url} is not a usable model manifest (${reason}); the files of ${folder} are loaded without checking them.`);
    return new Map<string, ManifestEntry>();
  };
  const entries = fetchManifest(url)
    .then(async (response) => {
      if (isRedirect(response)) return unreadable('it answered with a redirect, which local-only does not follow');
      if (!response.ok || (response.headers.get('content-type') ?? '').includes('text/html')) return new Map<string, ManifestEntry>();
      let json: unknown;
      try {
        json = await response.json();
      } catch (error) {
        return unreadable(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
      const files = manifestFiles(json);
      return typeof files === 'string' ? unreadable(files) : new Map(files.map((entry) => [entry.path, entry]));
    })
    .catch(() => new Map<string, ManifestEntry>()); // unreachable (offline): nothing to check against
  return async (url) => {
    const path = url.split(/[?#]/)[0]!;
    if (!path.startsWith(`${folder}/`)) return undefined;
    return (await entries).get(decodeURIComponent(path.slice(folder.length + 1)));
  };
}

/** One lookup per folder in this worker (the manifest is fetched once, whoever asks first). */
const folderLookups = new Map<string, ManifestLookup>();

/**
 * The shared {@link manifestLookup} of `folderUrl` (absolute, or relative to the worker's
 * location). `localOnly`: the manifest is fetched without following a redirect.
 */
export function folderManifest(folderUrl: string | undefined, localOnly = false, fetchManifest: typeof fetch = fetch): ManifestLookup {
  if (!folderUrl) return NO_ENTRY;
  const folder = new URL(folderUrl, self.location.href).href.replace(/\/+$/, '');
  const key = `${localOnly ? 'local-only ' : ''}${folder}`;
  let lookup = folderLookups.get(key);
  if (!lookup) folderLookups.set(key, (lookup = manifestLookup(folder, localOnly ? fetchFollowingNoRedirect(fetchManifest) : fetchManifest)));
  return lookup;
}

async function sha256Hex(bytes: BufferSource): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Why `bytes` is not the file `entry` lists, or undefined when it is. */
export async function manifestMismatch(bytes: Uint8Array<ArrayBuffer>, entry: ManifestEntry): Promise<string | undefined> {
  if (bytes.byteLength !== entry.bytes) return `it is ${bytes.byteLength} bytes, ${MANIFEST_NAME} says ${entry.bytes}`;
  const actual = await sha256Hex(bytes);
  return actual === entry.sha256 ? undefined : `its SHA-256 is ${actual.slice(0, 12)}…, ${MANIFEST_NAME} says ${entry.sha256.slice(0, 12)}…`;
}

/**
 * Passes a download through unchanged (progress keeps flowing) while keeping a copy; at the
 * end, a file that does not match `entry` errors the stream with `fail(reason)`.
 */
export function manifestCheck(entry: ManifestEntry, fail: (reason: string) => Error): TransformStream<Uint8Array, Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  return new TransformStream({
    transform(chunk, controller) {
      chunks.push(chunk); // the reader copies chunks out; none is reused
      length += chunk.byteLength;
      controller.enqueue(chunk);
    },
    async flush(controller) {
      const whole = new Uint8Array(length);
      let offset = 0;
      for (const chunk of chunks) {
        whole.set(chunk, offset);
        offset += chunk.byteLength;
      }
      const reason = await manifestMismatch(whole, entry);
      if (reason) controller.error(fail(reason));
    },
  });
}
