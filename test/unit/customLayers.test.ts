// The user's own layer classes (subclasses of tf.layers.Layer): they stay classes under the
// runner's layer-location wrapper, each is traced as one layer through autodiff of its own call,
// and its gradients equal tfjs autodiff of the whole model, on each backend.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LayerLocations, withLayerLocations } from '../../src/runner/layerLocations';
import { stackLocations } from '../../src/runner/runError';
import { TEST_BACKENDS, captured, onCpu, runStep, tracerFor, useBackend } from './helpers/tracerHarness';
import { checkAgainstReference, randomBatch, referenceGrads } from './helpers/gradientCheck';

/** Weights from addWeight, its own call and computeOutputShape; registered for serialization. */
class GatedDense extends tf.layers.Layer {
  static className = 'GatedDense';
  private kernel!: tf.LayerVariable;
  private gate!: tf.LayerVariable;

  constructor(
    private readonly units: number,
    config: { inputShape?: number[] } = {},
  ) {
    super(config);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.kernel = this.addWeight('kernel', [shape[shape.length - 1]!, this.units], 'float32', tf.initializers.glorotUniform({ seed: 21 }));
    this.gate = this.addWeight('gate', [this.units], 'float32', tf.initializers.randomNormal({ seed: 22 }));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [(inputShape as tf.Shape)[0], this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.mul(tf.tanh(tf.matMul(x, this.kernel.read())), tf.sigmoid(this.gate.read()));
    });
  }
}
tf.serialization.registerClass(GatedDense);

/** Unregistered, parameter-free, named by getClassName() only. */
class SoftSign extends tf.layers.Layer {
  constructor() {
    super({ name: 'soft_sign' });
  }

  override getClassName(): string {
    return 'SoftSign';
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.div(x, tf.add(tf.abs(x), 1));
  }
}

function customModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(new GatedDense(6, { inputShape: [5] }));
  model.add(new SoftSign());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 23 }) }));
  return model;
}

describe('custom layer classes under the layer-location wrapper', () => {
  const here = __filename.replace(/\.js$/, '');
  const isUserFile = (f: string) => f.endsWith('customLayers.test.ts') || f.replace(/\.js$/, '') === here;

  it('tf.layers.Layer stays a class: a subclass constructs, is a Layer, and is located at its `new`', () => {
    const locations = new LayerLocations(isUserFile);
    const userTf = withLayerLocations(tf, locations);
    class Twice extends userTf.layers.Layer {
      static className = 'Twice';
      constructor() {
        super({});
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
      }
    }
    class Thrice extends Twice {}
    const twice = new Twice(); const twiceLine = stackLocations(new Error().stack)[0];
    const thrice = new Thrice(); const thriceLine = stackLocations(new Error().stack)[0];
    assert.ok(twice instanceof tf.layers.Layer && thrice instanceof Twice);
    assert.equal(locations.of(twice)?.line, twiceLine.line, 'the line of `new Twice()`, not of its super call');
    assert.equal(locations.of(thrice)?.line, thriceLine.line, 'a subclass of a subclass: the line of its `new`');
    // The factories still record their call's line.
    const dense = userTf.layers.dense({ units: 2 }); const denseLine = stackLocations(new Error().stack)[0];
    assert.equal(locations.of(dense)?.line, denseLine.line);
    assert.equal(userTf.layers.Layer.prototype, tf.layers.Layer.prototype, 'the same class underneath');
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`custom layers traced on ${backend}`, () => {
    before(async () => useBackend(backend));

    it('a model with custom layers: one traced layer each, gradients equal tfjs autodiff (cpu)', async () => {
      const model = customModel();
      const tracer = tracerFor(model, 'categoricalCrossentropy');
      assert.deepEqual(
        tracer.summary.layers.map((l) => [l.type, l.paramCount, l.nativeBackward]),
        [['GatedDense', 5 * 6 + 6, false], ['SoftSign', 0, false], ['Dense', 6 * 3 + 3, true]],
      );
      const { xs, ys } = randomBatch([7, 5], 3, 4);
      const ref = await onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
      checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.05, 1e-4);
    });

    it('the custom layer’s output is captured as its activation', () => {
      const model = customModel();
      const { xs, ys } = randomBatch([4, 5], 3, 5);
      const { outcome } = runStep(tracerFor(model, 'categoricalCrossentropy', tf.train.sgd(0)), xs, ys);
      const expected = (model.layers[1].apply(model.layers[0].apply(xs)) as tf.Tensor).dataSync();
      const traced = captured(outcome, 1, 'activation');
      traced.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6));
      outcome.scope.dispose();
    });
  });
}
