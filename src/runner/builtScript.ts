// A worker script built beside the runner's bundle: dist/ in the product, a bench's bin/ (which
// copies it there), else dist/ above where this code runs (the tests' out/).
import * as fs from 'node:fs';
import * as path from 'node:path';

export function builtScript(name: string): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, name), path.join(dir, 'dist', name)]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error(`dist/${name} not found: run \`npm run build\` first`);
  }
}
