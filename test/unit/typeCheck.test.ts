// The runner's type check: type errors are located warnings that do not stop training (a
// renamed .js file trains), 'error' mode (the CLI's --strict-types) fails at the first one with
// its full message, the check honours the user's tsconfig.json, and its cached verdict is
// invalidated by anything on disk it depended on.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunnerClient, RunnerError, defaultRunnerPath } from '../../src/host/runnerClient';
import { ProtocolViolation, parseRunnerMessage } from '../../src/shared/messageValidators';
import { TraceReader } from '../../src/trace/traceReader';
import type { FromRunner, TypeCheckMode, TypeDiagnostic } from '../../src/shared/protocol';
import type { RunError } from '../../src/shared/traceTypes';
import { startTypeCheck, type TypeCheck } from '../../src/runner/typeCheck/typeCheck';
import { InputRecorder, inputsUnchanged } from '../../src/runner/typeCheck/checkInputs';

const root = path.resolve(__dirname, '../../..');
const renamedJs = path.join(root, 'test/unit/fixtures/broken/renamedJs.ts');
const workerScript = path.join(root, 'dist/typeCheckWorker.js');

const tempFolder = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

const FIRST: TypeDiagnostic = {
  file: renamedJs,
  line: 5,
  column: 7,
  code: 2322,
  message: [
    "Type '(x: string) => string' is not assignable to type '(x: number) => string'.",
    "  Types of parameters 'x' and 'x' are incompatible.",
    "    Type 'number' is not assignable to type 'string'.",
  ].join('\n'),
};
const IMPLICIT_ANY: TypeDiagnostic = { file: renamedJs, line: 7, column: 16, code: 7006, message: "Parameter 'x' implicitly has an 'any' type." };

interface Traced {
  messages: FromRunner[];
  failure?: RunError;
  dir: string;
}

async function trace(file: string, typeCheck?: TypeCheckMode): Promise<Traced> {
  const runner = RunnerClient.spawn({ runnerPath: defaultRunnerPath(), backend: 'cpu' });
  const messages: FromRunner[] = [];
  let failure: RunError | undefined;
  runner.onMessage((m) => {
    messages.push(m);
    if (m.type === 'failed') failure = m.error;
  });
  const dir = tempFolder('gl-types-run-');
  try {
    await runner.start({ file, outDir: dir, typeCheck });
  } catch (e) {
    if (!(e instanceof RunnerError)) throw e;
    failure = e.runError;
  }
  await runner.exited;
  return { messages, failure, dir };
}

describe('type check in the runner', () => {
  it('a .js renamed to .ts (implicit any, one type error) trains to the end; each error is a located warning', async () => {
    const { messages, failure, dir } = await trace(renamedJs);
    assert.equal(failure, undefined);
    const reader = TraceReader.open(dir);
    assert.equal(reader.end?.state, 'finished');
    assert.equal(reader.stepCount, 3);
    reader.close();
    const reports = messages.filter((m) => m.type === 'typeDiagnostics');
    assert.equal(reports.length, 1, 'one report');
    assert.deepEqual(reports[0].diagnostics, [FIRST, IMPLICIT_ANY], 'every error, in full, the first one first');
    const finished = messages.findIndex((m) => m.type === 'state' && m.state === 'finished');
    assert.ok(messages.indexOf(reports[0]) < finished, 'reported before the run ends');
  });

  it("in 'error' mode fails the run at the first type error, with its whole message", async () => {
    const { failure, dir } = await trace(renamedJs, 'error');
    assert.deepEqual(failure, {
      kind: 'type',
      message: `TS${FIRST.code}: ${FIRST.message}`,
      location: { file: renamedJs, line: FIRST.line, column: FIRST.column },
    });
    assert.equal(TraceReader.open(dir).end?.state, 'failed');
  });

  it("'off' skips it", async () => {
    const { messages, failure } = await trace(renamedJs, 'off');
    assert.equal(failure, undefined);
    assert.ok(!messages.some((m) => m.type === 'typeDiagnostics'));
  });
});

describe('the typeDiagnostics message', () => {
  const envelope = (diagnostics: unknown) => ({ id: 1, body: { type: 'typeDiagnostics', diagnostics } });

  it('is accepted from the runner when every diagnostic is whole', () => {
    assert.deepEqual(parseRunnerMessage(envelope([FIRST, IMPLICIT_ANY])), envelope([FIRST, IMPLICIT_ANY]));
  });

  it('is refused when a diagnostic is not', () => {
    assert.throws(() => parseRunnerMessage(envelope({ ...FIRST })), ProtocolViolation, 'not a list');
    assert.throws(() => parseRunnerMessage(envelope([{ ...FIRST, line: '5' }])), /line/, 'a line that is not a number');
    assert.throws(() => parseRunnerMessage(envelope([IMPLICIT_ANY, { file: FIRST.file, line: 1, column: 1, code: 2322 }])), /message/, 'no message');
  });
});

describe('the CLI with type errors', () => {
  // Its own temp folder: the type-check cache starts empty.
  const env = { ...process.env, TMPDIR: tempFolder('gl-types-cli-') };
  const cli = (...args: string[]) =>
    spawnSync('sh', ['-c', `"${process.execPath}" "${path.join(root, 'dist/cli.js')}" "$@" 2>&1`, 'sh', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  const out = () => path.join(tempFolder('gl-types-out-'), 'run');
  const warning = (d: TypeDiagnostic) => `${d.file}:${d.line}:${d.column}: warning [type] TS${d.code}: ${d.message}`;

  it('prints every type error as a warning and exits 0; with the verdict cached, before the first step', () => {
    const cold = cli('trace', renamedJs, '--backend', 'cpu', '--out', out());
    assert.equal(cold.status, 0, cold.stdout);
    assert.ok(cold.stdout.includes(`${warning(FIRST)}\n${warning(IMPLICIT_ANY)}\n`), cold.stdout);
    const warm = cli('trace', renamedJs, '--backend', 'cpu', '--out', out());
    assert.equal(warm.status, 0, warm.stdout);
    const first = warm.stdout.indexOf(warning(FIRST));
    assert.ok(first >= 0 && first < warm.stdout.indexOf('step     0'), warm.stdout);
  });

  it('--strict-types fails the run at the first error, located, in full', () => {
    const strict = cli('trace', renamedJs, '--backend', 'cpu', '--out', out(), '--strict-types');
    assert.equal(strict.status, 1, strict.stdout);
    assert.ok(strict.stdout.includes(`${FIRST.file}:${FIRST.line}:${FIRST.column}: error [type]: TS${FIRST.code}: ${FIRST.message}`), strict.stdout);
    assert.ok(!/more type error/.test(strict.stdout));
  });
});

describe('the type check and its cache', () => {
  async function check(file: string, cacheDir: string): Promise<{ cached: boolean; diagnostics: TypeDiagnostic[] }> {
    const started: TypeCheck | undefined = startTypeCheck(file, { workerScript, cacheDir });
    assert.ok(started, 'the worker is built');
    return { cached: started.known !== undefined, diagnostics: await started.done };
  }
  const codes = (r: { diagnostics: TypeDiagnostic[] }) => r.diagnostics.map((d) => d.code);

  it("resolves the shipped typings, honours tsconfig.json, and re-checks when a file it read, or a package it looked for, changes", async function () {
    this.timeout(120_000);
    const dir = tempFolder('gl-types-cache-');
    const cacheDir = path.join(dir, 'cache');
    const file = path.join(dir, 'model.ts');
    fs.writeFileSync(
      file,
      ["import * as tf from '@tensorflow/tfjs';", "import type { LossName } from 'gradient-lens';", 'export const loss: LossName = "hinge";', 'export const fromTf: number = tf.ownMarker;', 'export function same(x) { return x; }', ''].join('\n'),
    );

    // Nothing installed: tfjs and gradient-lens from the shipped typings (tfjs has no ownMarker).
    const shipped = await check(file, cacheDir);
    assert.deepEqual(codes(shipped), [2339, 7006], JSON.stringify(shipped.diagnostics));
    assert.match(shipped.diagnostics[0].message, /Property 'ownMarker' does not exist on type 'typeof import\(".*node_modules\/@tensorflow\/tfjs\/dist\/index"\)'/);
    assert.deepEqual(await check(file, cacheDir), { cached: true, diagnostics: shipped.diagnostics });

    // The folder installs its own tfjs: it wins, and the cached verdict no longer holds.
    const own = path.join(dir, 'node_modules/@tensorflow/tfjs');
    fs.mkdirSync(own, { recursive: true });
    fs.writeFileSync(path.join(own, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs', version: '0.0.1', types: 'index.d.ts' }));
    fs.writeFileSync(path.join(own, 'index.d.ts'), 'export declare const ownMarker: number;\nexport declare class Tensor {}\nexport declare class Variable {}\n');
    const installed = await check(file, cacheDir);
    assert.equal(installed.cached, false);
    assert.deepEqual(codes(installed), [7006]);

    // A tsconfig.json that includes the file is honoured; editing it re-checks.
    const tsconfig = path.join(dir, 'tsconfig.json');
    fs.writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { strict: true, noImplicitAny: false } }));
    assert.deepEqual(await check(file, cacheDir), { cached: false, diagnostics: [] });
    assert.deepEqual(await check(file, cacheDir), { cached: true, diagnostics: [] });
    fs.writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { strict: true } }));
    const edited = await check(file, cacheDir);
    assert.equal(edited.cached, false);
    assert.deepEqual(codes(edited), [7006]);

    // A tsconfig.json whose files do not include the model: the defaults, as the editor would.
    fs.writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { noImplicitAny: false }, include: ['src'] }));
    assert.deepEqual(codes(await check(file, cacheDir)), [7006]);
  });
});

describe("what a cached verdict depends on: files' stamps", () => {
  it('a file that changed well before it was read is stamped, and its stamp, not its bytes, decides; a rewrite of the same size with its mtime put back still counts', async function () {
    this.timeout(20_000);
    const file = path.join(tempFolder('gl-types-inputs-'), 'settled.d.ts');
    fs.writeFileSync(file, 'export declare const a: number;\n');
    const fresh = new InputRecorder();
    fresh.readFile(file);
    assert.match(fresh.entries()[0][1], /^file:[0-9a-f]{20}$/, 'just written: it may change again within the same tick, so it is hashed each time');

    await new Promise((resolve) => setTimeout(resolve, 2100));
    const settled = new InputRecorder();
    assert.equal(settled.readFile(file), 'export declare const a: number;\n');
    const [[recordedPath, state]] = settled.entries();
    const stamped = /^file:([0-9a-f]{20}):(\S+)$/.exec(state);
    assert.ok(stamped, state);
    assert.equal(inputsUnchanged([[recordedPath, state]]), true);
    // The stamp is trusted without reading the file: a wrong hash beside a matching stamp passes.
    assert.equal(inputsUnchanged([[recordedPath, `file:${'0'.repeat(20)}:${stamped[2]}`]]), true);

    const before = fs.statSync(file);
    fs.writeFileSync(file, 'export declare const b: number;\n');
    fs.utimesSync(file, before.atime, before.mtime);
    assert.equal(fs.statSync(file).size, before.size);
    assert.equal(inputsUnchanged([[recordedPath, state]]), false, 'a write moves ctime');
    assert.equal(inputsUnchanged(fresh.entries()), false, 'and the unstamped entry sees the new bytes');
  });
});
