// Remembers the line of the user's file where each layer was built, by wrapping the
// `tf.layers.*` factories the user's file sees: each call notes the first stack frame in the
// user's own sources.
import type * as tfType from '@tensorflow/tfjs';
import type { SourceLocation } from '../shared/traceTypes';
import { userFrame } from './runError';

export class LayerLocations {
  private readonly byLayer = new WeakMap<object, SourceLocation>();

  constructor(private readonly isUserFile: (file: string) => boolean) {}

  record(layer: unknown, stack: string | undefined): void {
    if (typeof layer !== 'object' || layer === null) return;
    const loc = userFrame(stack, this.isUserFile);
    if (loc) this.byLayer.set(layer, loc);
  }

  of(layer: object): SourceLocation | undefined {
    return this.byLayer.get(layer);
  }

  locate(stack: string | undefined): SourceLocation | undefined {
    return userFrame(stack, this.isUserFile);
  }
}

/** A copy of the tf namespace whose layer factories record where they were called. */
export function withLayerLocations(tf: typeof tfType, locations: LayerLocations): typeof tfType {
  const layers: Record<string, unknown> = {};
  for (const [name, factory] of Object.entries(tf.layers)) {
    layers[name] =
      typeof factory === 'function'
        ? (...args: unknown[]) => {
            const layer = (factory as (...a: unknown[]) => unknown)(...args);
            locations.record(layer, new Error().stack);
            return layer;
          }
        : factory;
  }
  return { ...tf, layers } as unknown as typeof tfType;
}
