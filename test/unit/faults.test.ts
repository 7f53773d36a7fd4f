// The fault suite: every way a user's file, the disk, a trace or the runner can go wrong, driven
// through the real CLI and the real RunnerClient. Each test checks what the user is told (with
// the file and line, or the trace file and byte offset), the exit code, that nothing hangs (the
// test's own timeout), that every step reported done can be read back, and that no process the
// run started is left behind.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunnerClient, RunnerError, defaultRunnerPath, type StallNotice } from '../../src/host/runnerClient';
import { TraceReader } from '../../src/trace/traceReader';
import type { RunError } from '../../src/shared/traceTypes';
import { assertNoStack, assertNoSurvivors, fixture, killLeftovers, runCli, startCli, tempDir, waitGone } from './faultsHelpers';

const runnerPath = defaultRunnerPath();

// A failed test must not leave its CLI and runner spinning for the rest of the suite.
afterEach(killLeftovers);

/** The steps the CLI printed as done. */
const printedSteps = (out: string): number[] => [...out.matchAll(/^step\s+(\d+)\s+loss/gm)].map((m) => Number(m[1]));

/** Every step the CLI printed as done is in the trace and reads back whole. */
function assertPrintedStepsReadable(out: string, dir: string): void {
  const printed = printedSteps(out);
  const reader = TraceReader.open(dir);
  try {
    for (const step of printed) assert.equal(reader.readStep(step).step, step);
    assert.ok(reader.stepCount >= printed.length, `${printed.length} printed, ${reader.stepCount} on disk`);
  } finally {
    reader.close();
  }
}

describe('faults: runner lifetime', function () {
  this.timeout(60_000);

  it('a loop in the data function: the CLI says where after a while, and SIGTERM ends it and its runner within a second', async () => {
    const out = tempDir();
    const file = fixture('faults/loopInData.ts');
    const run = startCli(['trace', file, '--out', out, '--no-typecheck'], { GRADIENT_LENS_STALL_MS: '1500' });
    // The first notice may come before the watch thread has looked; a later one names the line.
    const [notice] = await run.waitForOutput(/no step has completed for \d+ s.*loopInData\.ts:9:3.*/);
    assert.ok(notice.includes(`busy in your code at ${file}:9:3`), notice);
    assert.match(notice, /press Ctrl-C to stop/);
    assert.ok(run.seen.size >= 2, 'the runner was seen');
    const t0 = Date.now();
    process.kill(run.pid, 'SIGTERM');
    const { code } = await run.exited;
    for (const pid of run.seen) await waitGone(pid, 1000);
    assert.ok(Date.now() - t0 < 1000, `ended in ${Date.now() - t0} ms`);
    assert.equal(code, 143);
    assert.match(run.err, /stopped \(SIGTERM\)/);
    // Step 1 is on disk, but its report waits for the thread the loop holds: at most one step late.
    assert.deepEqual(printedSteps(run.out).slice(0, 1), [0]);
    assertPrintedStepsReadable(run.out, out);
    await assertNoSurvivors(run);
  });

  it('a parent killed outright (an extension host that dies) takes its spinning runner with it within a second', async () => {
    const out = tempDir();
    const run = startCli(['trace', fixture('faults/loopInData.ts'), '--out', out, '--no-typecheck'], { GRADIENT_LENS_STALL_MS: '1000' });
    await run.waitForOutput(/busy in your code at .*loopInData\.ts:9:3/);
    // The runner and the esbuild service it bundled the model with.
    const children = [...run.seen].filter((p) => p !== run.pid);
    assert.ok(children.length >= 1, 'the runner was seen');
    process.kill(run.pid, 'SIGKILL');
    await run.exited;
    for (const pid of children) {
      const tookMs = await waitGone(pid, 1000);
      assert.ok(tookMs < 1000, `process ${pid} outlived the CLI by ${tookMs} ms`);
    }
    assertPrintedStepsReadable(run.out, out);
    await assertNoSurvivors(run);
  });

  it('Ctrl-C while the model file loops at load: the CLI named the line meanwhile and ends within a second', async () => {
    const file = fixture('broken/runawayLoop.ts');
    const run = startCli(['summary', file], { GRADIENT_LENS_STALL_MS: '1000' });
    await run.waitForOutput(new RegExp(`has been loading for \\d+ s .*busy in your code at ${file.replace(/[/.]/g, '\\$&')}:3:1`));
    const t0 = Date.now();
    process.kill(run.pid, 'SIGINT');
    const { code } = await run.exited;
    for (const pid of run.seen) await waitGone(pid, 1000);
    assert.ok(Date.now() - t0 < 1000, `ended in ${Date.now() - t0} ms`);
    assert.equal(code, 130);
    assertNoStack(run.err);
    await assertNoSurvivors(run);
  });

  it('a loop at module load times out with the file and line it spins on, and the runner is killed', async () => {
    const file = fixture('broken/runawayLoop.ts');
    const runner = RunnerClient.spawn({ runnerPath, stallNoticeMs: 1000 });
    const notices: StallNotice[] = [];
    runner.onStall((n) => notices.push(n));
    await runner.ready;
    const error = await runner.load(file, 5000).then(
      () => assert.fail('loaded'),
      (e: RunnerError) => e.runError,
    );
    assert.equal(error.kind, 'timeout');
    assert.deepEqual(error.location && { file: error.location.file, line: error.location.line }, { file, line: 3 });
    assert.match(error.message, /runawayLoop\.ts did not finish building its model within 5 s; it is busy in your code at .*runawayLoop\.ts:3:1 \(a loop at module load\?\)/);
    assert.ok(notices.some((n) => n.busy?.location?.line === 3), 'a stall notice named the line before the timeout');
    assert.equal((await runner.exited).signal, 'SIGKILL');
    await waitGone(runner.pid!, 1000);
  });

  it('stop (closing the panel) ends a runner spinning in user code within a second', async () => {
    const runner = RunnerClient.spawn({ runnerPath, stallNoticeMs: 1000 });
    try {
      // Step 1's report waits behind the loop; the watch thread's notice says the loop has begun.
      const spinning = new Promise<void>((resolve) => runner.onStall((n) => n.busy?.location?.line === 9 && resolve()));
      await runner.start({ file: fixture('faults/loopInData.ts'), outDir: tempDir(), typeCheck: 'off' });
      await spinning;
      const t0 = Date.now();
      await runner.stop();
      await waitGone(runner.pid!, 1000);
      assert.ok(Date.now() - t0 < 1000, `stopped in ${Date.now() - t0} ms`);
    } finally {
      runner.kill();
    }
  });
});

describe('faults: messages from the runner', function () {
  this.timeout(60_000);
  const file = fixture('faults/sendsMessage.ts');

  async function traceSending(message: unknown, when: 'load' | 'step') {
    const out = tempDir();
    const run = await runCli(['trace', file, '--out', out, '--no-typecheck', '--steps', '30'], { GL_FAULT_MESSAGE: JSON.stringify(message), GL_FAULT_WHEN: when });
    assertNoStack(run.err);
    await assertNoSurvivors(run);
    return { ...run, out: run.out, dir: out };
  }

  it("an 'ack' as the reply to 'start' is a protocol error, not a started run", async () => {
    const run = await traceSending({ id: 1000, inReplyTo: 1, body: { type: 'ack' } }, 'load');
    assert.equal(run.code, 1);
    assert.match(run.err, /error \[protocol\]: .*'ack' in reply to 'start', which expects 'started'/);
  });

  it("a 'stepDone' whose stepMs is not a number ends the run with the field named, no uncaught exception", async () => {
    const run = await traceSending({ id: 1000, body: { type: 'stepDone', entry: { step: 5, loss: 1, accuracy: null, testAccuracy: null }, stepMs: 'x', health: [] } }, 'step');
    assert.equal(run.code, 1);
    assert.match(run.err, /error \[protocol\]: .*'stepDone'\.stepMs: expected a finite number, got string "x"/);
    assertPrintedStepsReadable(run.out, run.dir);
  });

  it("a 'failed' whose location is a string is a protocol error, not undefined:undefined", async () => {
    const run = await traceSending({ id: 1000, body: { type: 'failed', error: { kind: 'internal', message: 'boom', location: 'here' } } }, 'step');
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.err, /undefined/);
    assert.match(run.err, /error \[protocol\]: .*'failed'\.error\.location: expected an object, got string "here"/);
  });

  it("a false 'finished' with no steps done fails instead of exiting 0 with no trace", async () => {
    const run = await traceSending({ id: 1000, body: { type: 'state', state: 'finished', step: 0 } }, 'step');
    assert.equal(run.code, 1);
    assert.match(run.err, /error \[protocol\]: .*'finished' at step 0 after \d+ completed step\(s\); the run has 30/);
    assertPrintedStepsReadable(run.out, run.dir);
  });

  it('a message of a type the protocol does not have is a protocol error naming the types it has', async () => {
    const run = await traceSending({ id: 1000, body: { type: 'launchMissiles' } }, 'step');
    assert.equal(run.code, 1);
    assert.match(run.err, /error \[protocol\]: .*body\.type: expected a runner message type \(hello, summary, started/);
  });

  it('the same through RunnerClient: the failure arrives as a protocol RunError and the runner is killed', async () => {
    process.env.GL_FAULT_MESSAGE = JSON.stringify({ id: 1000, body: { type: 'stepDone', entry: { step: 'one' }, stepMs: 1, health: [] } });
    process.env.GL_FAULT_WHEN = 'step';
    try {
      const runner = RunnerClient.spawn({ runnerPath });
      let failure: RunError | undefined;
      runner.onMessage((m) => m.type === 'failed' && (failure ??= m.error));
      await runner.start({ file, outDir: tempDir(), typeCheck: 'off' });
      const exit = await runner.exited;
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(failure?.kind, 'protocol');
      assert.match(failure!.message, /'stepDone'\.entry\.step: expected an integer ≥ 0, got string "one"/);
      await waitGone(runner.pid!, 1000);
    } finally {
      delete process.env.GL_FAULT_MESSAGE;
      delete process.env.GL_FAULT_WHEN;
    }
  });
});

describe('faults: writing the trace', function () {
  this.timeout(60_000);
  const file = fixture('tinyModel.ts');

  it('a file that stops growing (ulimit -f: a real short write, then EFBIG) stops the run with the OS error and the path', async () => {
    const out = tempDir();
    const run = await runCli(['trace', file, '--out', out, '--no-typecheck'], {}, { fileSizeLimitKb: 24 });
    assert.equal(run.code, 1);
    const steps = printedSteps(run.out);
    assert.ok(steps.length > 0 && steps.length < 40, `${steps.length} steps printed`);
    assert.match(run.err.slice(-2000), new RegExp(`error \\[write\\] \\(step ${steps.length}\\): could not write ${out}/steps\\.bin: file too large \\(EFBIG\\); the run stopped \\(steps 0–${steps.length - 1} are in the trace\\)`));
    assertNoStack(run.err);
    // Every step printed as done is on disk; the torn record after them is reported, not read.
    assertPrintedStepsReadable(run.out, out);
    const reader = TraceReader.open(out);
    assert.equal(reader.stepCount, steps.length);
    assert.equal(reader.end?.error?.kind, 'write');
    reader.close();
    assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith('.tmp')), []);
    await assertNoSurvivors(run);
  });

  it('a disk with no space at all (steps.bin on /dev/full: a real ENOSPC) fails at once with the path, and nothing hangs', async () => {
    const out = tempDir();
    fs.symlinkSync('/dev/full', path.join(out, 'steps.bin'));
    const run = await runCli(['trace', file, '--out', out, '--no-typecheck']);
    assert.equal(run.code, 1);
    assert.deepEqual(printedSteps(run.out), []);
    assert.match(run.err, new RegExp(`error \\[write\\]( \\(step 0\\))?: could not write ${out}/steps\\.bin: no space left on device \\(ENOSPC\\)`));
    assertNoStack(run.err);
    assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith('.tmp')), []);
    await assertNoSurvivors(run);
  });
});

describe('faults: the command line', function () {
  this.timeout(60_000);
  const file = fixture('tinyModel.ts');

  it('--out on an earlier trace is refused with what it holds; --force replaces it and its end.json', async () => {
    const out = tempDir();
    const first = await runCli(['trace', file, '--out', out, '--no-typecheck', '--steps', '6']);
    assert.equal(first.code, 0, first.err);
    const again = await runCli(['trace', file, '--out', out, '--no-typecheck', '--steps', '3']);
    assert.equal(again.code, 2);
    assert.match(again.err, new RegExp(`--out ${out} already holds a trace \\(finished, 6 steps\\): pass --force to replace it`));
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const forced = await runCli(['trace', file, '--out', out, '--no-typecheck', '--steps', '3', '--force']);
    assert.equal(forced.code, 0, forced.err);
    const reader = TraceReader.open(out);
    assert.equal(reader.stepCount, 3);
    assert.equal(reader.end?.steps, 3);
    reader.close();
    assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine', '--force removes only trace files');
    await assertNoSurvivors(forced);
  });

  it('arguments parse strictly, and a bad one lists what is allowed (exit 2, no runner started)', async () => {
    const cases: [string[], RegExp][] = [
      [['--steps', '0x10'], /--steps must be an integer from 1 to 100,000,000, got '0x10'/],
      [['--batch-size', '1e9'], /--batch-size must be an integer from 1 to 65,536, got '1e9'/],
      [['--batch-size', '1000000000'], /--batch-size must be an integer from 1 to 65,536, got '1000000000'/],
      [['--seed=-1'], /--seed must be an integer from 0 to 4,294,967,295, got '-1'/],
      [['--backend', 'bogus'], /--backend must be one of auto, tensorflow, wasm, cpu, got 'bogus'/],
    ];
    for (const [args, expected] of cases) {
      const run = await runCli(['trace', file, ...args]);
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.err, expected);
      assertNoStack(run.err);
      assert.equal(run.seen.size, 1, 'only the CLI ran');
    }
  });

  it('a folder named dir.ts is "not a file", not a syntax error', async () => {
    const dir = path.join(tempDir(), 'dir.ts');
    fs.mkdirSync(dir);
    const run = await runCli(['trace', dir]);
    assert.equal(run.code, 2);
    assert.match(run.err, /dir\.ts: not a file/);
    assert.doesNotMatch(run.err, /\[syntax\]/);
  });

  it('an --out that cannot be written gives the OS error and the path, not a stack', async () => {
    // /sys refuses mkdir even to root: a real EPERM.
    const out = `/sys/gl-fault-${process.pid}`;
    const run = await runCli(['trace', file, '--out', out, '--no-typecheck', '--steps', '2']);
    assert.equal(run.code, 1);
    assert.match(run.err, new RegExp(`error \\[write\\]: could not write ${out}: operation not permitted \\(EPERM\\); the run stopped \\(no step is in the trace\\)`));
    assertNoStack(run.err);
    await assertNoSurvivors(run);
  });
});

describe('faults that already hold (kept holding)', function () {
  this.timeout(60_000);

  it('a syntax error: file:line:col of the user file, exit 1, nothing left running', async () => {
    const file = fixture('broken/syntaxError.ts');
    const run = await runCli(['trace', file, '--out', tempDir(), '--no-typecheck']);
    assert.equal(run.code, 1);
    assert.ok(run.err.includes(`${file}:4:56: error [syntax]`), run.err);
    assertNoStack(run.err);
    await assertNoSurvivors(run);
  });

  it('an exception mid-training: its line and step, the steps before it readable', async () => {
    const file = fixture('throwsMidTraining.ts');
    const out = tempDir();
    const run = await runCli(['trace', file, '--out', out, '--no-typecheck']);
    assert.equal(run.code, 1);
    assert.ok(run.err.includes(`${file}:8:`), run.err);
    assert.match(run.err, /error \[user-exception\] \(step 3\): the data source ran dry/);
    assert.deepEqual(printedSteps(run.out), [0, 1, 2]);
    assertPrintedStepsReadable(run.out, out);
    await assertNoSurvivors(run);
  });

  it('a NaN loss: the step and the layer, at the layer’s line; the failing step is recorded', async () => {
    const file = fixture('nanLoss.ts');
    const out = tempDir();
    const run = await runCli(['trace', file, '--out', out, '--no-typecheck']);
    assert.equal(run.code, 1);
    assert.match(run.err, new RegExp(`${file.replace(/[/.]/g, '\\$&')}:\\d+:\\d+: error \\[non-finite\\] \\(step \\d+\\)`));
    assertPrintedStepsReadable(run.out, out);
    await assertNoSurvivors(run);
  });

  it('kill -9 of the runner mid-run: reported as a crash, every printed step recovered from the trace', async () => {
    const out = tempDir();
    const run = startCli(['trace', fixture('faults/loopInData.ts'), '--out', out, '--no-typecheck']);
    await run.waitForOutput(/^step\s+0\s/m);
    const runner = [...run.seen].find((p) => p !== run.pid && fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('runner.js'));
    assert.ok(runner, 'the runner was seen');
    process.kill(runner, 'SIGKILL');
    const { code } = await run.exited;
    assert.equal(code, 1);
    assert.match(run.err, /error \[runner-crashed\]: The runner process exited unexpectedly \(signal SIGKILL\)/);
    assertPrintedStepsReadable(run.out, out);
    await assertNoSurvivors(run);
  });

  it('the capture budget: kept tensors stay within the step and keyframe budgets', async () => {
    const runner = RunnerClient.spawn({ runnerPath });
    const out = tempDir();
    const budget = { stepBudgetBytes: 64, keyframeBudgetBytes: 512 };
    await runner.start({ file: fixture('tinyModel.ts'), outDir: out, typeCheck: 'off', overrides: { steps: 6, capture: budget } });
    await runner.exited;
    const reader = TraceReader.open(out);
    assert.equal(reader.stepCount, 6);
    for (let s = 0; s < 6; s++) {
      const record = reader.readStep(s);
      const kept = record.tensors.reduce((n, t) => n + t.values.byteLength, 0);
      assert.ok(kept <= (record.keyframe ? budget.keyframeBudgetBytes : budget.stepBudgetBytes), `step ${s}: ${kept} bytes kept`);
      assert.ok(record.summaries.length > 0, 'summaries are always kept');
    }
    reader.close();
    await waitGone(runner.pid!, 1000);
  });
});
