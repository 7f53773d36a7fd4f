// Stacks in the runner point into .ts files through source maps (--enable-source-maps, which
// the host passes, and the user's bundle's inline map). Node 20 reads and parses a module's map
// as it loads the module, and tfjs's packages ship 17 MB of maps: ~110 ms of every start, for
// frames that are never the user's. So this module, the runner's first import, turns maps off
// while the packages load; the runner's own bundle keeps its map (Node read it before any code
// ran), and maps come back on once the backend is loaded, before any of the user's code is.
process.setSourceMapsEnabled(false);

/** Source maps on again, for everything loaded from here on (the user's bundle, their packages). */
export function packagesLoaded(): void {
  process.setSourceMapsEnabled(true);
}
