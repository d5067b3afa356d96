/**
 * A self-hosted model folder made by `npx voice-agent models` carries
 * `voice-agent-models.json`: every file's path (relative to the folder), size and SHA-256.
 * When the folder has one, what is downloaded and what is found in Cache Storage is checked
 * against it: a download that differs fails naming the file, a cached copy that differs is
 * dropped and downloaded again. A folder without one is not checked (the manifest is
 * optional; hub downloads have none).
 */

export const MANIFEST_NAME = 'voice-agent-models.json';

export interface ManifestEntry {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Looks up the manifest entry of a file URL (undefined: not listed, or no manifest). */
export type ManifestLookup = (url: string) => Promise<ManifestEntry | undefined>;

const NO_ENTRY: ManifestLookup = async () => undefined;

/**
 * The lookup for a model folder: its manifest is fetched once (per worker and folder) with
 * `fetchManifest`; a missing or unreadable one means "not checked".
 */
export function manifestLookup(folderUrl: string | undefined, fetchManifest: typeof fetch): ManifestLookup {
  if (!folderUrl) return NO_ENTRY;
  const folder = folderUrl.replace(/\/+$/, '');
  const entries = fetchManifest(`${folder}/${MANIFEST_NAME}`)
    .then(async (response) => (response.ok ? ((await response.json()) as { files?: ManifestEntry[] }) : null))
    .then((manifest) => new Map((manifest?.files ?? []).map((entry) => [entry.path, entry])))
    .catch(() => new Map<string, ManifestEntry>());
  return async (url) => {
    const path = url.split(/[?#]/)[0]!;
    if (!path.startsWith(`${folder}/`)) return undefined;
    return (await entries).get(decodeURIComponent(path.slice(folder.length + 1)));
  };
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
