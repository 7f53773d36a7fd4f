// The capture worker speaks the shared protocol (src/shared/protocol.ts, ToCaptureWorker /
// FromCaptureWorker) through the shared Endpoint: checked replies, a step's copied tensors handed
// over without another copy, summarised and built into records there, written in order, and a
// write the user must fix rejected with its located error.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CapturePipeline } from '../../src/runner/capture/capturePipeline';
import { DEFAULT_CAPTURE, buildStepRecord } from '../../src/runner/capture/recordBuilder';
import { LocatedError } from '../../src/runner/runError';
import { ProtocolViolation, parseCaptureReply, parseCaptureRequest } from '../../src/shared/messageValidators';
import type { CaptureStep } from '../../src/shared/protocol';
import type { RunMeta } from '../../src/shared/traceTypes';
import { summarize } from '../../src/runner/capture/summarize';
import { TraceReader } from '../../src/trace/traceReader';
import { testRunMeta } from './helpers/runMeta';

const meta = (dir: string): RunMeta => testRunMeta({ runId: path.basename(dir), file: 'model.ts', capture: DEFAULT_CAPTURE });

/** A keyframe step of a one-kernel model, as the training thread hands it over. */
const stepOf = (step: number, loss: number): Omit<CaptureStep, 'type'> => ({
  step: {
    step,
    keyframe: true,
    batchSize: 1,
    loss,
    prediction: Float32Array.of(0.25, 0.75),
    target: Float32Array.of(0, 1),
    outputSize: 2,
    captures: [{ layer: 0, role: 'param', param: 'kernel', shape: [2, 2], perExample: false, values: Float32Array.of(step, 1, 2, 3) }],
  },
  stepMs: 1.5,
  testLoss: loss * 2,
});

describe('capture worker', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-pipeline-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds and writes each record whole, in order, its copies moved to the worker rather than copied again', async () => {
    const out = path.join(dir, 'run');
    const pipeline = new CapturePipeline(out, meta(out));
    await pipeline.opened;
    const first = stepOf(0, 0.75);
    const { written } = await pipeline.submit({ copied: first.step }, { stepMs: first.stepMs, testLoss: first.testLoss });
    // Transferred: this thread's view of the buffer is gone (a copy would have left it).
    assert.equal(first.step.captures[0].values.byteLength, 0);
    const second = await (await pipeline.submit({ copied: stepOf(1, 0.5).step }, { stepMs: 1.5, testLoss: 1 })).written;
    const w = await written;
    assert.deepEqual(w.entry, { step: 0, loss: 0.75, accuracy: null, testAccuracy: null });
    assert.equal(w.stepMs, 1.5);
    assert.equal(w.health?.length, 1);
    assert.equal(second.entry?.step, 1);
    // The worker handed the copies' buffers back: the next copy goes into one (a fresh array would be zeros).
    assert.deepEqual(Array.from(pipeline.floats(4).subarray(1)), [1, 2, 3]);
    assert.deepEqual(Array.from(pipeline.floats(3)), [0, 0, 0], 'no buffer of that size came back');
    assert.ok(pipeline.workerBusyMs > 0);
    await pipeline.close({ state: 'finished' });
    const reader = TraceReader.open(out);
    assert.equal(reader.stepCount, 2);
    const back = reader.readStep(1);
    assert.equal(back.testLoss, 1);
    assert.deepEqual(Array.from(back.tensors[0].values), [1, 1, 2, 3]);
    // The summary was computed in the worker, from the values handed over.
    assert.deepEqual(back.summaries[0].stats, summarize(Float32Array.of(1, 1, 2, 3)));
    assert.deepEqual(back.samples, [{ index: 0, target: [0, 1], prediction: [0.25, 0.75] }]);
    assert.equal(back.health?.[0].layer, 0);
  });

  it('a record built on the training thread (when the worker is behind) is appended as it is; the worker says when it is done', async () => {
    const out = path.join(dir, 'run');
    const pipeline = new CapturePipeline(out, meta(out));
    await pipeline.opened;
    assert.equal(pipeline.workerBehind, false, 'nothing handed over yet');
    const copied = stepOf(0, 0.75);
    const first = await pipeline.submit({ copied: copied.step }, { stepMs: 1.5 });
    const built = buildStepRecord(stepOf(1, 0.5).step, DEFAULT_CAPTURE);
    const second = await pipeline.submit({ built }, { stepMs: 2, testLoss: 0.25 });
    await first.written;
    assert.equal((await second.written).entry?.step, 1);
    assert.equal(pipeline.workerBehind, false, 'both steps written');
    assert.equal(built.tensors[0].values.byteLength, 0, "the record's kept tensor was transferred");
    await pipeline.close({ state: 'finished' });
    const back = TraceReader.open(out).readStep(1);
    assert.deepEqual([back.stepMs, back.testLoss], [2, 0.25]);
    assert.deepEqual(back.summaries[0].stats, summarize(Float32Array.of(1, 1, 2, 3)));
  });

  it('a trace folder that cannot be made: opening rejects with the located write error', async () => {
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, '');
    const out = path.join(blocker, 'run');
    const pipeline = new CapturePipeline(out, meta(out));
    await assert.rejects(pipeline.opened, (e: unknown) => e instanceof LocatedError && e.runError.kind === 'write' && e.message.includes(blocker));
    await pipeline.close({ state: 'failed' }).catch(() => undefined);
  });

  it('replies and requests are checked field by field against the one table', () => {
    assert.throws(() => parseCaptureReply({ id: 1, inReplyTo: 1, body: { type: 'written', entry: { step: 0, loss: 1, accuracy: null, testAccuracy: null } } }), (e: unknown) => e instanceof ProtocolViolation && /'written'\.busyMs: expected a finite number, got nothing/.test(e.message));
    assert.throws(() => parseCaptureReply({ id: 1, body: { type: 'done' } }), /a capture worker message type \(opened, written, closed, captureFailed\)/);
    assert.throws(() => parseCaptureRequest({ id: 2, body: { type: 'step', ...stepOf(0, 1), stepMs: Number.NaN } }), /'step'\.stepMs: expected a finite number/);
    const good = stepOf(0, 1);
    const notFloats = { ...good, step: { ...good.step, captures: [{ ...good.step.captures[0], values: [0, 1, 2, 3] }] } };
    assert.throws(() => parseCaptureRequest({ id: 4, body: { type: 'step', ...notFloats } }), /'step'\.step\.captures\[0\]\.values: expected a Float32Array/);
    assert.equal(parseCaptureRequest({ id: 3, body: { type: 'close', end: { state: 'stopped' } } }).body.type, 'close');
  });
});
