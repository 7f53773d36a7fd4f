// Loss functions by name (or the user's own), their gradient with respect to the prediction
// through tfjs autodiff (cheap next to the layers), and batch accuracy where it means something.
import * as tf from '@tensorflow/tfjs';
import type { LossFn, LossName } from '../../api/index';

const EPSILON = 1e-7;

function crossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  // As tfjs-layers does: renormalise, clip away from 0 and 1, then −Σ y·log p per example.
  const p = tf.clipByValue(tf.div(yPred, tf.sum(yPred, -1, true)), EPSILON, 1 - EPSILON);
  return tf.mean(tf.neg(tf.sum(tf.mul(yTrue, tf.log(p)), -1)));
}

/**
 * mean(max(0, −y·ŷ)), with the perceptron rule's gradient: a point on the boundary (y·ŷ = 0)
 * is a mistake too, so weights starting at zero still learn (relu's gradient at 0 is 0).
 */
function perceptronLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  const loss = tf.customGrad(((pred: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    const margin = tf.mul(yTrue, pred);
    save([margin]);
    return {
      value: tf.mean(tf.relu(tf.neg(margin))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const mistakes = tf.cast(tf.lessEqual(saved[0], 0), 'float32');
        return tf.mul(dy, tf.div(tf.neg(tf.mul(yTrue, mistakes)), pred.size));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return loss(yPred) as tf.Scalar;
}

const NAMED: Record<LossName, LossFn> = {
  categoricalCrossentropy: crossEntropy,
  sparseCategoricalCrossentropy: (yTrue, yPred) =>
    crossEntropy(tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), 'int32'), yPred.shape[yPred.shape.length - 1]), yPred),
  binaryCrossentropy: (yTrue, yPred) => {
    const p = tf.clipByValue(yPred, EPSILON, 1 - EPSILON);
    return tf.mean(tf.neg(tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p)))))) as tf.Scalar;
  },
  meanSquaredError: (yTrue, yPred) => tf.mean(tf.squaredDifference(yPred, yTrue)) as tf.Scalar,
  meanAbsoluteError: (yTrue, yPred) => tf.mean(tf.abs(tf.sub(yPred, yTrue))) as tf.Scalar,
  hinge: (yTrue, yPred) => tf.mean(tf.relu(tf.sub(1, tf.mul(yTrue, yPred)))) as tf.Scalar,
  perceptron: (yTrue, yPred) => perceptronLoss(yTrue, yPred),
};

export interface Loss {
  name: string;
  fn: LossFn;
}

export function resolveLoss(loss: LossName | LossFn): Loss {
  if (typeof loss === 'function') return { name: loss.name || 'custom', fn: loss };
  const fn = NAMED[loss];
  if (!fn) throw new Error(`Unknown loss '${String(loss)}'. Known: ${Object.keys(NAMED).join(', ')}, or a function (yTrue, yPred) => tf.Scalar.`);
  return { name: loss, fn };
}

/** The loss value and ∂L/∂prediction. */
export function lossAndGradient(loss: Loss, yTrue: tf.Tensor, yPred: tf.Tensor): { value: tf.Scalar; grad: tf.Tensor } {
  const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => loss.fn(yTrue, p))(yPred);
  return { value: value as tf.Scalar, grad };
}

/** Fraction of the batch classified right, or undefined for regression. */
export function batchAccuracy(lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar | undefined {
  return batchAccuracyTensor(lossName, yTrue, yPred) as tf.Scalar | undefined;
}

function batchAccuracyTensor(lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor | undefined {
  const classes = yPred.shape[yPred.shape.length - 1];
  if (lossName === 'perceptron' || lossName === 'hinge') {
    return tf.mean(tf.cast(tf.equal(tf.sign(yPred), tf.sign(yTrue)), 'float32'));
  }
  if (lossName === 'sparseCategoricalCrossentropy') {
    return tf.mean(tf.cast(tf.equal(tf.argMax(yPred, -1), tf.cast(tf.reshape(yTrue, [-1]), 'int32')), 'float32'));
  }
  if (classes > 1 && (lossName === 'categoricalCrossentropy' || lossName === 'meanSquaredError')) {
    return tf.mean(tf.cast(tf.equal(tf.argMax(yPred, -1), tf.argMax(yTrue, -1)), 'float32'));
  }
  if (classes === 1 && lossName === 'binaryCrossentropy') {
    return tf.mean(tf.cast(tf.equal(tf.round(yPred), yTrue), 'float32'));
  }
  return undefined;
}

type LossSpec = LossName | LossFn | (LossName | LossFn)[] | Record<string, LossName | LossFn>;

/**
 * One loss per model output, as tfjs's compile reads `loss`: one for every output, an array in
 * output order, or an object keyed by output name. (tfjs-layers 4.22 has no loss weights: the
 * total is the plain sum.)
 */
export function resolveOutputLosses(loss: LossSpec, outputNames: string[]): Loss[] {
  if (Array.isArray(loss)) {
    if (loss.length !== outputNames.length) {
      throw new Error(`The loss is an array of ${loss.length}, but the model has ${outputNames.length} output(s) (${outputNames.join(', ')}): give one loss per output.`);
    }
    return loss.map(resolveLoss);
  }
  if (typeof loss === 'object' && loss !== null) {
    const unknown = Object.keys(loss).filter((k) => !outputNames.includes(k));
    if (unknown.length > 0) throw new Error(`The loss names output(s) ${unknown.map((k) => `'${k}'`).join(', ')}, but the model's outputs are ${outputNames.join(', ')}.`);
    return outputNames.map((name) => {
      const l = loss[name];
      if (l === undefined) throw new Error(`The loss has no entry for output '${name}' (an output without a loss is not traced).`);
      return resolveLoss(l);
    });
  }
  const one = resolveLoss(loss);
  return outputNames.map(() => one);
}

/** The name a run's config shows: "mse", or "mse + categoricalCrossentropy" for several outputs. */
export function lossesName(losses: Loss[]): string {
  return [...new Set(losses.map((l) => l.name))].join(' + ');
}

/** One held-out batch's loss and accuracy (numbers; the tensors are freed). */
export function heldOutBatch(loss: Loss, ys: tf.Tensor, pred: tf.Tensor): { loss: number; accuracy?: number } {
  return tf.tidy(() => ({ loss: loss.fn(ys, pred).dataSync()[0], accuracy: batchAccuracy(loss.name, ys, pred)?.dataSync()[0] }));
}
