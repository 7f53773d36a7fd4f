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

  it('bad input: a clear message and a non-zero exit', () => {
    const missing = run('trace', 'no/such/model.ts');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no such file/);
    const badSteps = run('trace', seed, '--steps', 'many');
    assert.equal(badSteps.code, 2);
    assert.match(badSteps.err, /--steps must be an integer/);
    const notATrace = run('show', os.tmpdir());
    assert.equal(notATrace.code, 1);
    assert.match(notATrace.err, /is not a Gradient Lens trace/);
    const unknown = run('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'frobnicate'/);
  });
});
