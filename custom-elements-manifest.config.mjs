/**
 * Custom Elements Manifest (npm run build → dist/custom-elements.json, the package's
 * `customElements` field): the element's attributes, properties, events, CSS parts,
 * custom properties and states, read from the JSDoc in src/voice-agent.ts.
 *
 * The package ships the built dist/, not src/: module paths are rewritten to the files
 * that are in it (the two entries, and the .d.ts of every other module).
 */
const ENTRIES = { 'src/index.ts': 'dist/voice-agent.js', 'src/class.ts': 'dist/voice-agent.class.js' };
/** `src/x.ts`, `/src/x.ts` or (re-exports in src/class.ts) `./x.ts` → the shipped file. */
const shipped = (reference) => {
  const path = reference.replace(/^\//, '').replace(/^\.\//, 'src/');
  return ENTRIES[path] ?? path.replace(/^src\/(.*)\.ts$/, 'dist/types/$1.d.ts');
};

export default {
  globs: ['src/index.ts', 'src/class.ts', 'src/voice-agent.ts', 'src/events/*.ts'],
  exclude: ['src/**/*.test.ts'],
  outdir: 'dist',
  litelement: true,
  plugins: [
    {
      name: 'voice-agent-shipped-paths',
      packageLinkPhase({ customElementsManifest }) {
        const visit = (node) => {
          if (Array.isArray(node)) return node.forEach(visit);
          if (!node || typeof node !== 'object') return;
          for (const [key, value] of Object.entries(node)) {
            if ((key === 'path' || key === 'module') && typeof value === 'string') node[key] = shipped(value);
            else visit(value);
          }
        };
        visit(customElementsManifest.modules);
      },
    },
  ],
};
