// Remembers the line of the user's file where each layer was built. The `tf.layers.*` factories
// the user's file sees note the first stack frame in the user's own sources; the layer classes
// (`tf.layers.Layer`, `RNN`, `RNNCell`) stay classes, so `class X extends tf.layers.Layer`
// works, and constructing a subclass notes the line of its `new`.
import type * as tfType from '@tensorflow/tfjs';
import type { SourceLocation } from '../shared/traceTypes';
import { stackLocations, userFrame } from './runError';

export class LayerLocations {
  private readonly byLayer = new WeakMap<object, SourceLocation>();

  constructor(private readonly isUserFile: (file: string) => boolean) {}

  record(layer: unknown, stack: string | undefined): void {
    if (typeof layer !== 'object' || layer === null) return;
    const loc = userFrame(stack, this.isUserFile);
    if (loc) this.byLayer.set(layer, loc);
  }

  /**
   * Records where a user's layer class was instantiated: the first user frame that is not one of
   * the class chain's own constructors (whose `super(...)` lines say nothing about the model).
   */
  recordConstructed(layer: object, stack: string | undefined, constructorNames: readonly string[]): void {
    if (this.byLayer.has(layer)) return;
    const own = new Set(constructorNames.map((n) => `new ${n}`));
    const frames = stackFrames(stack).filter((f) => this.isUserFile(f.loc.file));
    const outside = frames.find((f) => !own.has(f.fn));
    const loc = (outside ?? frames[0])?.loc;
    if (loc) this.byLayer.set(layer, loc);
  }

  of(layer: object): SourceLocation | undefined {
    return this.byLayer.get(layer);
  }

  locate(stack: string | undefined): SourceLocation | undefined {
    return userFrame(stack, this.isUserFile);
  }
}

/** Stack frames with the function each one is in ("new MyLayer", "buildModel", ...). */
function stackFrames(stack: string | undefined): { fn: string; loc: SourceLocation }[] {
  if (!stack) return [];
  const out: { fn: string; loc: SourceLocation }[] = [];
  for (const line of stack.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('at ')) continue;
    const [loc] = stackLocations(line);
    if (!loc) continue;
    const paren = trimmed.indexOf(' (');
    out.push({ fn: paren > 0 ? trimmed.slice(3, paren) : '', loc });
  }
  return out;
}

/** The names of a class and its ancestors up to (not including) `base`. */
function classChain(cls: unknown, base: unknown): string[] {
  const names: string[] = [];
  for (let c = cls; typeof c === 'function' && c !== base; c = Object.getPrototypeOf(c)) names.push((c as { name: string }).name);
  return names;
}

/** A class that still constructs (and is extended) as itself, and records each instance's line. */
function locatingClass<C extends object>(cls: C, locations: LayerLocations): C {
  const proxy: C = new Proxy(cls, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target as new (...a: unknown[]) => object, args, newTarget) as object;
      locations.recordConstructed(instance, new Error().stack, classChain(newTarget, proxy));
      return instance;
    },
  });
  return proxy;
}

/** A copy of the tf namespace whose layer factories and classes (and tf.model) record where they were built. */
export function withLayerLocations(tf: typeof tfType, locations: LayerLocations): typeof tfType {
  const layers: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(tf.layers)) {
    if (typeof member !== 'function') layers[name] = member;
    else if (/^[A-Z]/.test(name)) layers[name] = locatingClass(member, locations);
    else {
      layers[name] = (...args: unknown[]) => {
        const layer = (member as (...a: unknown[]) => unknown)(...args);
        locations.record(layer, new Error().stack);
        return layer;
      };
    }
  }
  // A functional model's line, for what is refused about it as a whole.
  const model = (...args: Parameters<typeof tf.model>) => {
    const built = tf.model(...args);
    locations.record(built, new Error().stack);
    return built;
  };
  // tf's exports copied as they are (getters stay getters, not read: a deferred package stays
  // unloaded until the file uses it, deferredPackages.ts), with the locating layers and model.
  const exports: PropertyDescriptorMap = Object.getOwnPropertyDescriptors(tf);
  exports.layers = { value: layers, enumerable: true };
  exports.model = { value: model, enumerable: true };
  return Object.defineProperties({}, exports) as typeof tfType;
}
