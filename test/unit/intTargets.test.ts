// int32 targets (tf.oneHot's) travel to the capture worker as float32: the worker's message
// check once refused them, and every such run failed at its first recorded step.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceReader } from '../../src/trace/traceReader';
import { traceWithRunner } from './helpers/runnerTrace';

const file = path.resolve(__dirname, '../../../test/unit/fixtures/intLabels.ts');

describe('int32 targets through the runner', function () {
  this.timeout(120_000);
  for (const backend of ['cpu', 'wasm']) {
    it(`on ${backend}: every step recorded, the sample's target as its one-hot row`, async () => {
      const run = await traceWithRunner(file, backend);
      try {
        assert.equal(run.failure, undefined, run.failure?.message);
        const reader = TraceReader.open(run.dir);
        assert.equal(reader.stepCount, 4);
        // Batches are shuffled: whichever example was picked, its target is a one-hot row.
        const target = reader.readStep(3).samples?.[0].target;
        assert.ok(target, 'no sample target');
        assert.deepEqual([...target].sort(), [0, 0, 1]);
        reader.close();
      } finally {
        fs.rmSync(run.dir, { recursive: true, force: true });
      }
    });
  }
});
