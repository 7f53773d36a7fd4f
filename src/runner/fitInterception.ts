// A plain tfjs script — compile, then model.fit(xs, ys, { epochs, batchSize }) — is traced too:
// while the user's file runs, fit declares the training to the tracer instead of running it.
import * as tf from '@tensorflow/tfjs';
import { defineTraining, type LossName } from '../api/index';
import { LocatedError } from './runError';
import type { LayerLocations } from './layerLocations';

type Fit = tf.LayersModel['fit'];

function declareFromFit(model: tf.LayersModel, x: unknown, y: unknown, args: tf.ModelFitArgs = {}, locations: LayerLocations): void {
  const where = locations.locate(new Error().stack);
  const fail = (message: string) => new LocatedError({ kind: 'contract', message, location: where });
  if (!model.optimizer) throw fail('model.fit was called before model.compile({ optimizer, loss }).');
  if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor)) throw fail('model.fit(xs, ys) is traced when xs and ys are single tensors.');
  const loss = Array.isArray(model.loss) ? model.loss[0] : model.loss;
  const validation = Array.isArray(args.validationData) ? args.validationData : undefined;
  const batchSize = args.batchSize ?? 32;
  const epochs = args.epochs ?? 1;
  defineTraining({
    name: model.name,
    model,
    data: {
      train: { xs: x, ys: y },
      test: validation ? { xs: validation[0] as tf.Tensor, ys: validation[1] as tf.Tensor } : undefined,
    },
    loss: loss as LossName,
    optimizer: model.optimizer,
    batchSize,
    steps: epochs * Math.max(1, Math.floor(x.shape[0] / batchSize)),
  });
}

/** Replaces fit while the user's file runs; returns the function that puts it back. */
export function interceptFit(locations: LayerLocations): () => void {
  const targets = [tf.LayersModel.prototype, tf.Sequential.prototype] as { fit: Fit }[];
  const originals = targets.map((t) => t.fit);
  for (const target of targets) {
    target.fit = function (this: tf.LayersModel, x, y, args) {
      declareFromFit(this, x, y, args, locations);
      // The tracer trains from here; what the script does after fit never runs.
      return new Promise<tf.History>(() => undefined);
    } as Fit;
  }
  return () => targets.forEach((t, i) => (t.fit = originals[i]));
}
