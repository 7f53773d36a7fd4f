// Decides whether a step went non-finite, and says where: the first layer (in phase order)
// whose captured tensors hold NaN or ±Inf, or, when the loss overflowed before any tensor did,
// the layer with the largest outputs.
import type { LayerInfo, RunError, StepRecord } from '../../shared/traceTypes';

export function firstNonFinite(record: StepRecord) {
  return record.summaries.find((s) => s.stats && s.stats.nanCount + s.stats.infCount > 0);
}

function largestActivation(record: StepRecord): { layer: number; magnitude: number } | undefined {
  let best: { layer: number; magnitude: number } | undefined;
  for (const s of record.summaries) {
    if (s.role !== 'activation' || !s.stats) continue;
    const magnitude = Math.max(Math.abs(s.stats.min), Math.abs(s.stats.max));
    if (!best || magnitude > best.magnitude) best = { layer: s.layer, magnitude };
  }
  return best;
}

export function nonFiniteError(record: StepRecord, layers: LayerInfo[]): RunError | undefined {
  const bad = firstNonFinite(record);
  if (Number.isFinite(record.loss) && !bad) return undefined;
  let where = '';
  let layer = bad && bad.layer >= 0 ? layers[bad.layer] : undefined;
  if (layer && bad) {
    where = ` The first non-finite values appeared in layer ${layer.index} '${layer.name}' (${layer.type}), in its ${bad.role}${bad.param ? ` (${bad.param})` : ''}.`;
  } else {
    const largest = largestActivation(record);
    layer = largest ? layers[largest.layer] : undefined;
    if (layer && largest) {
      where = ` No layer's values were non-finite yet: the loss overflowed; the largest outputs (|a| up to ${largest.magnitude.toExponential(2)}) came from layer ${layer.index} '${layer.name}'.`;
    }
  }
  return {
    kind: 'non-finite',
    message: `The loss became ${record.loss} at step ${record.step}.${where} Try a smaller learning rate.`,
    step: record.step,
    layer: layer?.index,
    layerName: layer?.name,
    location: layer?.location,
  };
}
