// A failure inside one layer's forward or backward pass is told at that layer: the frame in the
// user's code when there is one (a custom layer's call), else the line that built the layer.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LayerLocations, withLayerLocations } from '../../src/runner/layerLocations';
import type { LocatedError } from '../../src/runner/runError';
import { stackLocations } from '../../src/runner/runError';
import { resolveLoss } from '../../src/runner/tracer/losses';
import { SequentialTracer } from '../../src/runner/tracer/sequentialTracer';
import { StepScope } from '../../src/runner/tracer/stepScope';

const thisFile = (f: string) => /layerFailures\.test\.(ts|js)$/.test(f);

function stepToEnd(tracer: SequentialTracer, xs: tf.Tensor, ys: tf.Tensor): void {
  const gen = tracer.step(xs, ys, new StepScope(false, [xs, ys]));
  for (let n = gen.next(); !n.done; n = gen.next());
}

function failureOf(run: () => void): LocatedError['runError'] {
  try {
    run();
  } catch (e) {
    const runError = (e as Partial<LocatedError>).runError;
    if (!runError) throw e;
    return runError;
  }
  throw new Error('expected the step to fail');
}

describe('failures inside a layer', () => {
  it('an internal failure in a built-in layer is located at the line that built it', () => {
    const locations = new LayerLocations(thisFile);
    const userTf = withLayerLocations(tf, locations);
    const first = userTf.layers.dense({ inputShape: [3], units: 4 });
    const second = userTf.layers.dense({ units: 2 }); const secondLine = stackLocations(new Error().stack)[0].line;
    const model = tf.sequential({ layers: [first, second] });
    const tracer = new SequentialTracer(model, locations, resolveLoss('meanSquaredError'), tf.train.sgd(0.1));
    // Freed weights: tfjs itself throws from inside the layer's forward pass.
    second.getWeights()[0].dispose();
    const error = failureOf(() => stepToEnd(tracer, tf.ones([2, 3]), tf.ones([2, 2])));
    assert.equal(error.kind, 'internal');
    assert.equal(error.layer, 1);
    assert.equal(error.location?.line, secondLine);
    assert.match(error.message, /^Layer 1 'dense_Dense\d+' \(Dense\), forward pass: .+/);
  });

  it('an exception in a custom layer’s call is a user exception at the line that threw', () => {
    const locations = new LayerLocations(thisFile);
    const userTf = withLayerLocations(tf, locations);
    let throwLine = 0;
    class Fragile extends userTf.layers.Layer {
      static className = 'Fragile';
      override call(): tf.Tensor {
        const e = new Error('my layer is broken'); throwLine = stackLocations(e.stack)[0].line;
        throw e;
      }
    }
    const model = tf.sequential({ layers: [userTf.layers.dense({ inputShape: [3], units: 2 }), new Fragile({})] });
    const tracer = new SequentialTracer(model, locations, resolveLoss('meanSquaredError'), tf.train.sgd(0.1));
    const error = failureOf(() => stepToEnd(tracer, tf.ones([2, 3]), tf.ones([2, 2])));
    assert.equal(error.kind, 'user-exception');
    assert.equal(error.layer, 1);
    assert.equal(error.location?.line, throwLine);
    assert.match(error.message, /^Layer 1 'fragile_Fragile\d+' \(Fragile\), forward pass: my layer is broken$/);
  });
});
