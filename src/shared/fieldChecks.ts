// Small composable checkers for data that crossed a process or came off disk: each one either
// returns its value, typed, or throws a FieldError naming the field (`entry.loss`) and what it
// held instead. Composed into validators for every message and for meta.json.

export class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${field ? `${field}: ` : ''}expected ${expected}, got ${describe(got)}`);
  }
}

/** Returns `value` as a T, or throws a FieldError at `at` (a dotted path, '' for the root). */
export type Check<T> = (value: unknown, at: string) => T;

export type Checked<C> = C extends Check<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

const join = (at: string, key: string | number): string => (typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${key}` : key);

function primitive<T>(expected: string, test: (v: unknown) => boolean): Check<T> {
  return (v, at) => {
    if (!test(v)) throw new FieldError(at, expected, v);
    return v as T;
  };
}

export const string: Check<string> = primitive('a string', (v) => typeof v === 'string');
export const boolean: Check<boolean> = primitive('a boolean', (v) => typeof v === 'boolean');
/** Any number, NaN and ±Infinity included (a diverging loss is exactly when they matter). */
export const number: Check<number> = primitive('a number', (v) => typeof v === 'number');
export const finite: Check<number> = primitive('a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
export const integer: Check<number> = primitive('an integer', (v) => Number.isInteger(v));
export const count: Check<number> = primitive('an integer ≥ 0', (v) => Number.isInteger(v) && (v as number) >= 0);
export const positive: Check<number> = primitive('an integer ≥ 1', (v) => Number.isInteger(v) && (v as number) >= 1);

export function literal<const T extends string | number | boolean>(...allowed: T[]): Check<T> {
  return primitive(allowed.length === 1 ? JSON.stringify(allowed[0]) : `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, (v) =>
    (allowed as unknown[]).includes(v),
  );
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, at) => (v === undefined ? undefined : check(v, at));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, at) => (v === null ? null : check(v, at));
}

export function array<T>(check: Check<T>): Check<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) throw new FieldError(at, 'an array', v);
    v.forEach((item, i) => check(item, join(at, i)));
    return v as T[];
  };
}

export function instance<T>(ctor: abstract new (...args: never[]) => T, expected: string): Check<T> {
  return primitive(expected, (v) => v instanceof ctor);
}

type Shape = Record<string, Check<unknown>>;
type FromShape<S extends Shape> = { [K in keyof S as undefined extends Checked<S[K]> ? never : K]: Checked<S[K]> } & {
  [K in keyof S as undefined extends Checked<S[K]> ? K : never]?: Checked<S[K]>;
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object with these fields (others are let through: a newer runner may add some). */
export function object<S extends Shape>(shape: S): Check<{ [K in keyof FromShape<S>]: FromShape<S>[K] }> {
  return (v, at) => {
    if (!isRecord(v)) throw new FieldError(at, 'an object', v);
    for (const [key, check] of Object.entries(shape)) check(v[key], join(at, key));
    return v as { [K in keyof FromShape<S>]: FromShape<S>[K] };
  };
}

/** A value that passes every check (e.g. an object shape, then a rule across its fields). */
export function refine<T>(check: Check<T>, expected: string, rule: (value: T) => boolean): Check<T> {
  return (v, at) => {
    const value = check(v, at);
    if (!rule(value)) throw new FieldError(at, expected, v);
    return value;
  };
}
