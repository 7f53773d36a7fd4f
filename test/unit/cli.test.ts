// The command line, as a user runs it: exit codes and what it prints.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const seed = path.join(root, 'samples/01-what-is-a-neural-network/model.ts');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('gradient-lens CLI', () => {
  it('summary of the seed model: each layer with its shape and count, 235,146 in all', () => {
    const r = run('summary', seed);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\[batch, 256\]\s+200,960\s+784 × 256 weights \+ 256 biases = 200,960/);
    assert.match(r.out, /\[batch, 128\]\s+32,896/);
    assert.match(r.out, /\[batch, 10\]\s+1,290/);
    assert.match(r.out, /total params: 235,146/);
  });

  it('trace then show: one line per step, the trace folder, then every phase of a step', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-cli-'));
    const t = run('trace', seed, '--steps', '3', '--out', out);
    assert.equal(t.code, 0, t.err);
    assert.equal(t.out.match(/^step\s+\d+\s+loss \d/gm)?.length, 3);
    assert.match(t.out, new RegExp(`trace: ${out.replace(/[/.]/g, '\\$&')}`));
    const s = run('show', out, '--step', '1');
    assert.equal(s.code, 0, s.err);
    for (const phase of ['forward · 0', 'forward · 2', 'loss ·', 'backward · 2', 'backward · 0', 'update']) assert.ok(s.out.includes(phase), phase);
    assert.match(s.out, /∂L\/∂W\s+\[784×256\]/);
  });

  it('trace under a byte budget: the folder stays within it, keyframes thin out, and show says what each keyframe lacks', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-cli-budget-'));
    // Four steps, each a keyframe (a short run keeps one every step); 1 MB for the whole trace.
    const t = run('trace', seed, '--steps', '4', '--out', out, '--trace-budget', '1', '--keyframe-budget', '1', '--keyframe-precision', 'float16', '--quiet');
    assert.equal(t.code, 0, t.err);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'meta.json'), 'utf8')) as { config: { capture: Record<string, unknown> } };
    assert.equal(meta.config.capture.traceBudgetBytes, 2 ** 20);
    assert.equal(meta.config.capture.keyframeBudgetBytes, 2 ** 20, 'a budget given is not scaled to the model');
    assert.equal(meta.config.capture.keyframePrecision, 'float16');
    const files = [...fs.readdirSync(out).filter((f) => f !== 'keyframes').map((f) => path.join(out, f)), ...fs.readdirSync(path.join(out, 'keyframes')).map((f) => path.join(out, 'keyframes', f))];
    const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
    assert.ok(bytes <= 2 ** 20, `${bytes} bytes on disk`);
    const first = run('show', out, '--step', '0');
    assert.equal(first.code, 0, first.err);
    const kept = /^full tensors at (\d+) steps: ([\d, ]+) \(trace budget 1 MB\)$/m.exec(first.out);
    assert.ok(kept, first.out);
    const steps = kept[2].split(', ').map(Number);
    assert.equal(steps[0], 0);
    assert.equal(steps[steps.length - 1], 3);
    assert.ok(steps.length < 4, 'some keyframe was thinned out');
    // 1 MB of float32 holds the first layer's ∂L/∂W (803 kB, captured first), not also its weights.
    assert.match(first.out, /keyframe lacks \d+ of 31 tensors \([\d.]+ MB more than its per-keyframe budget held; raise --keyframe-budget\): .*dense_\w+ W(,|$)/m);
    const thinnedStep = [1, 2].find((s) => !steps.includes(s))!;
    const thinned = run('show', out, '--step', String(thinnedStep));
    assert.match(thinned.out, /this keyframe's full tensors were dropped to keep the trace within its byte budget/);
  });

  it('bad input: a clear message and a non-zero exit', () => {
    const missing = run('trace', 'no/such/model.ts');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no such file/);
    const badSteps = run('trace', seed, '--steps', 'many');
    assert.equal(badSteps.code, 2);
    assert.match(badSteps.err, /--steps must be an integer/);
    for (const [flag, value, message] of [
      ['--trace-budget', '0x10', /--trace-budget must be an integer from 1 to 1,048,576, got '0x10'/],
      ['--trace-budget', '0', /--trace-budget must be an integer from 1/],
      ['--keyframe-budget', '1.5', /--keyframe-budget must be an integer from 0 to 65,536, got '1.5'/],
      ['--keyframe-precision', 'half', /--keyframe-precision must be one of exact, float16, got 'half'/],
      ['--threads', '0', /--threads must be an integer from 1 to 8, got '0'/],
      ['--threads', 'all', /--threads must be an integer from 1 to 8, got 'all'/],
    ] as const) {
      const bad = run('trace', seed, flag, value);
      assert.equal(bad.code, 2, `${flag} ${value}`);
      assert.match(bad.err, message);
    }
    const notATrace = run('show', os.tmpdir());
    assert.equal(notATrace.code, 1);
    assert.match(notATrace.err, /is not a Gradient Lens trace/);
    const unknown = run('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'frobnicate'/);
  });
});
