// Entry point of the lesson 12 in-process runs (stock tfjs, or the tracer with capture off): its
// own bundle, so that the start-up a learner's plain tfjs script pays is not inflated by the other
// benchmarks' imports (playwright-core alone takes over a second to load here).
import { lessonInProcessMain } from './lessonRun';

lessonInProcessMain(process.argv.slice(2)).then(
  // tfjs-wasm keeps handles open; the result is out, so leave now.
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
