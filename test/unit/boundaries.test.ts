// The webview may import only src/shared (DESIGN.md): its tsconfig is a composite project, so a
// panel file that imports the runner's or the extension's code fails the type-check.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const tsc = path.join(root, 'node_modules/typescript/lib/tsc.js');

function typecheckWebview(): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(root, 'webview/tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('module boundaries', function () {
  this.timeout(240_000);

  it('a webview file importing the runner fails the webview type-check; src/shared passes', function () {
    const probe = path.join(root, 'webview', 'boundaryProbe.generated.ts');
    try {
      fs.writeFileSync(probe, "import { resolveLoss } from '../src/runner/tracer/losses';\nimport { phaseStops } from '../src/shared/phases';\nexport const probe = [resolveLoss, phaseStops];\n");
      const { status, output } = typecheckWebview();
      assert.notEqual(status, 0, 'the webview type-check passed with an import of the runner');
      assert.match(output, /boundaryProbe\.generated\.ts\(1,\d+\): error TS6307: File '.*src\/runner\/tracer\/losses\.ts' is not listed within the file list of project/);
      // The import of src/shared on the next line is fine.
      assert.doesNotMatch(output, /boundaryProbe\.generated\.ts\(2,/);
    } finally {
      fs.rmSync(probe, { force: true });
    }
  });
});
