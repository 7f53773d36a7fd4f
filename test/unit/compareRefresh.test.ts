// A live run compared with a baseline: as its steps arrive, the comparison is recomputed at most
// once per interval (Throttle, as RunPanel uses it), and the last one sent has seen every step —
// here a divergence at step 4 that the first comparisons could not know about.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarize } from '../../src/runner/capture/summarize';
import { Throttle } from '../../src/extension/throttle';
import type { CompareRun } from '../../src/shared/protocol';
import type { LayerInfo, RunMeta, StepRecord, TensorRole } from '../../src/shared/traceTypes';
import { PanelComparison } from '../../src/trace/compareMessage';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceWriter } from '../../src/trace/traceWriter';
import { testRunMeta } from './helpers/runMeta';

const STEPS = 8;
const DIVERGES_AT = 4;

const layers: LayerInfo[] = [0, 1].map((index) => ({
  index,
  name: `dense_Dense${index + 1}`,
  type: 'Dense',
  inputShape: [null, 4],
  outputShape: [null, 4],
  params: [{ name: 'kernel', shape: [4, 4], count: 16, trainable: true }],
  paramCount: 16,
  paramFormula: '',
  nativeBackward: true,
}));

const meta: RunMeta = testRunMeta({
  runId: 'live-compare',
  file: '/x/model.ts',
  layers,
  steps: STEPS,
  capture: { sampleIndices: [], keyframeEvery: 0, stepBudgetBytes: 0, keyframeBudgetBytes: 0 },
});

/** Step `step`'s record; `nudged` shifts layer 1's activations from DIVERGES_AT on. */
function record(step: number, nudged: boolean): StepRecord {
  const by = nudged && step >= DIVERGES_AT ? 0.25 : 0;
  const summary = (layer: number, role: TensorRole, param?: string) => {
    const values = Float32Array.from({ length: 8 }, (_, i) => Math.sin(step * 5 + layer * 3 + i + role.length) + (layer === 1 && role === 'activation' ? by : 0));
    return { layer, role, param, shape: [2, 4], stats: summarize(values, [2, 4]) };
  };
  const summaries = [0, 1].flatMap((l) => [summary(l, 'activation'), summary(l, 'gradActivation'), summary(l, 'gradParam', 'kernel'), summary(l, 'param', 'kernel')]);
  return { step, loss: 1 / (step + 1), stepMs: 1, keyframe: false, summaries, tensors: [] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a live run’s comparison follows its steps (throttled)', function () {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-live-compare-'));
    dirs.push(d);
    return d;
  };
  after(function () {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('recomputes at most once per interval as steps arrive, the last time with every step', async function () {
    const baselineDir = tmp();
    const w = new TraceWriter(baselineDir, meta);
    for (let s = 0; s < STEPS; s++) w.append(record(s, false));
    w.close({ state: 'finished' });

    const liveDir = tmp();
    const live = new TraceWriter(liveDir, meta);
    const reader = TraceReader.open(liveDir, { live: true });
    const comparison = new PanelComparison(reader, TraceReader.open(baselineDir));
    const INTERVAL = 120;
    const sent: { at: number; message: CompareRun }[] = [];
    const refresh = new Throttle(INTERVAL, () => sent.push({ at: performance.now(), message: comparison.message() }));
    try {
      const t0 = performance.now();
      // A step every 30 ms, each followed by a request (RunPanel requests on every progress).
      for (let s = 0; s < STEPS; s++) {
        live.append(record(s, true));
        reader.refresh();
        refresh.request();
        await sleep(30);
      }
      live.close({ state: 'finished' });
      reader.refresh();
      refresh.request();
      const elapsed = performance.now() - t0;
      await sleep(INTERVAL * 2);
      assert.equal(refresh.pending, false);

      assert.ok(sent.length >= 2, `recomputed as it ran: ${sent.length}`);
      // One at once, then one per interval up to the last request's interval past the end.
      assert.ok(sent.length <= Math.floor(elapsed / INTERVAL) + 2, `${sent.length} comparisons in ${elapsed.toFixed(0)} ms`);
      for (let i = 1; i < sent.length; i++) assert.ok(sent[i].at - sent[i - 1].at >= INTERVAL - 2, `gap ${(sent[i].at - sent[i - 1].at).toFixed(0)} ms`);
      const first = sent[0].message;
      assert.ok(first.sharedSteps < STEPS && first.sharedSteps <= DIVERGES_AT, `the first comparison saw ${first.sharedSteps} steps`);
      assert.equal(first.divergence, undefined, 'not diverged yet');
      const last = sent[sent.length - 1].message;
      assert.equal(last.sharedSteps, STEPS, 'the last comparison saw every step');
      assert.equal(last.divergence?.step, DIVERGES_AT);
      assert.equal(last.divergence?.layer, 1);
    } finally {
      refresh.cancel();
      comparison.close();
      reader.close();
    }
  });

  it('a cancelled request never runs; a run done another way restarts the interval', async function () {
    let runs = 0;
    let now = 1000;
    const t = new Throttle(50, () => runs++, () => now);
    t.request();
    t.cancel();
    await sleep(20);
    assert.equal(runs, 0);
    t.ran();
    now += 10;
    t.request();
    await sleep(20);
    assert.equal(runs, 0, 'within the interval of the last run: waits');
    await sleep(60);
    assert.equal(runs, 1);
  });
});
