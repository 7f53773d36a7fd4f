// The module a user's model file imports as 'gradient-lens/data': real image data sets read from
// IDX files on disk, as tensors of the runner's tfjs. Nothing is ever downloaded.
//
// Where Fashion-MNIST comes from, first match wins:
//   1. `options.dir`;
//   2. the environment variable GRADIENT_LENS_DATA;
//   3. the subset shipped in this repository (samples/data/fashion-mnist: the first 5,000 training
//      and 1,000 test images), when it holds as many examples as asked for;
//   4. Debian's full set, /usr/share/datasets/fashion-mnist (`apt-get install dataset-fashion-mnist`).
// The subset is the leading examples of the full set, byte for byte, so 3 and 4 give the same
// tensors for the same counts: a lesson traces identically with or without the Debian package.
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Split } from './index';
import { readIdx } from './idx';
import type { IdxArray } from './idx';

export interface ImageDataset {
  train: Split;
  test: Split;
  classNames: string[];
  /** Where the examples were read from, and how many. */
  source: string;
}

export interface ImageLoadOptions {
  /** Training examples to keep (the first ones; default: all in the folder). */
  trainCount?: number;
  /** Test examples to keep (the first ones; default: all in the folder). */
  testCount?: number;
  /** true (default): xs is [n, rows·cols]; false: [n, rows, cols, 1] for convolutional layers. */
  flatten?: boolean;
  /**
   * Keep only these classes, in this order: targets become one-hot over them and `classNames`
   * follows. Counts then count the kept examples.
   */
  classes?: number[];
}

export interface FashionMnistOptions extends ImageLoadOptions {
  /** A folder holding the four Fashion-MNIST IDX files (gzipped or not). */
  dir?: string;
}

export interface MnistIdxOptions extends ImageLoadOptions {
  /** Names of the label values 0, 1, ... (default: "0" … "9"). */
  classNames?: string[];
}

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const SUBSET_TRAIN_COUNT = 5000;
export const SUBSET_TEST_COUNT = 1000;
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const SUBSET_RELATIVE = join('samples', 'data', 'fashion-mnist');

/** Loads Fashion-MNIST (see the top of this file for where it is looked for). */
export function loadFashionMnist(options: FashionMnistOptions = {}): ImageDataset {
  const dir = resolveFashionMnistDir(options);
  return loadMnistIdx(dir, { ...options, classNames: FASHION_MNIST_CLASSES });
}

/** The folder `loadFashionMnist` reads for these options. */
export function resolveFashionMnistDir(options: FashionMnistOptions = {}): string {
  if (options.dir) return resolve(options.dir);
  const fromEnv = process.env.GRADIENT_LENS_DATA;
  if (fromEnv) return resolve(fromEnv);
  const subset = findShippedSubset();
  if (subset && subsetHolds(subset, options)) return subset;
  if (existsSync(DEBIAN_FASHION_MNIST_DIR)) return DEBIAN_FASHION_MNIST_DIR;
  if (subset) return subset;
  throw new Error(
    'Fashion-MNIST not found: pass { dir }, set GRADIENT_LENS_DATA to a folder of its IDX files, ' +
      `install Debian's dataset-fashion-mnist (${DEBIAN_FASHION_MNIST_DIR}), or run from a checkout ` +
      `of Gradient Lens (it ships ${SUBSET_RELATIVE})`,
  );
}

/** Whether the shipped subset has as many examples (of the requested classes) as asked for. */
function subsetHolds(subset: string, options: FashionMnistOptions): boolean {
  const enough = (prefix: 'train' | 't10k', wanted: number | undefined): boolean => {
    if (wanted === undefined) return true;
    const labels = readIdx(findIdxFile(subset, prefix, 'labels')).data;
    if (!options.classes) return wanted <= labels.length;
    const keep = new Set(options.classes);
    let n = 0;
    for (const label of labels) if (keep.has(label)) n++;
    return wanted <= n;
  };
  return enough('train', options.trainCount) && enough('t10k', options.testCount);
}

/** The shipped subset, searched upward from this module's folder and from the working directory. */
export function findShippedSubset(): string | undefined {
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    if (!start) continue;
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const candidate = join(dir, SUBSET_RELATIVE);
      if (existsSync(join(candidate, 'train-labels-idx1-ubyte.gz'))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/**
 * Loads any MNIST-format folder: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz (the original MNIST digits
 * or Fashion-MNIST). Pixels are scaled to [0, 1]; targets are one-hot float32.
 */
export function loadMnistIdx(dir: string, options: MnistIdxOptions = {}): ImageDataset {
  const names = options.classNames ?? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  const classes = options.classes ?? names.map((_, i) => i);
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= names.length) {
      throw new Error(`loadMnistIdx: class ${c} is not one of 0…${names.length - 1}`);
    }
  }
  const train = loadSplit(dir, 'train', options.trainCount, classes, names.length, options.flatten ?? true);
  const test = loadSplit(dir, 't10k', options.testCount, classes, names.length, options.flatten ?? true);
  const filter = options.classes ? `, classes ${classes.map((c) => names[c]).join(', ')}` : '';
  return {
    train: train.split,
    test: test.split,
    classNames: classes.map((c) => names[c]),
    source: `${resolve(dir)} (${train.kept} of ${train.total} training, ${test.kept} of ${test.total} test images${filter})`,
  };
}

function findIdxFile(dir: string, prefix: 'train' | 't10k', kind: 'images' | 'labels'): string {
  const rank = kind === 'images' ? 3 : 1;
  // The usual name, and the dotted variant some mirrors use (train-images.idx3-ubyte).
  const pattern = new RegExp(`^${prefix}-${kind}[.-]idx${rank}-ubyte(\\.gz)?$`);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new Error(`cannot read the data folder ${dir}: ${(e as Error).message}`);
  }
  const found = entries.filter((f) => pattern.test(f)).sort();
  if (found.length === 0) throw new Error(`${dir}: no ${prefix}-${kind}-idx${rank}-ubyte[.gz] file`);
  return join(dir, found[0]);
}

interface LoadedSplit {
  split: Split;
  kept: number;
  total: number;
}

function loadSplit(
  dir: string,
  prefix: 'train' | 't10k',
  count: number | undefined,
  classes: number[],
  numLabels: number,
  flatten: boolean,
): LoadedSplit {
  const imagesPath = findIdxFile(dir, prefix, 'images');
  const labelsPath = findIdxFile(dir, prefix, 'labels');
  const labels = readIdx(labelsPath);
  checkLabels(labels, labelsPath, numLabels);
  const total = labels.dims[0];
  const position = new Map(classes.map((c, i) => [c, i] as [number, number]));
  const wanted = count ?? total;
  if (!Number.isInteger(wanted) || wanted < 0) throw new Error(`${prefix} count must be a whole number ≥ 0, got ${count}`);
  const picked: number[] = [];
  for (let i = 0; i < total && picked.length < wanted; i++) {
    if (position.has(labels.data[i])) picked.push(i);
  }
  if (picked.length < wanted) {
    const what = classes.length < numLabels ? ' of the requested classes' : '';
    throw new Error(`${imagesPath}: asked for ${wanted} ${prefix === 'train' ? 'training' : 'test'} images${what}, the file has ${picked.length}`);
  }
  // Only as many images as the picked ones reach: the rest of the file is not inflated.
  const images = readIdx(imagesPath, picked.length > 0 ? picked[picked.length - 1] + 1 : 0);
  checkImages(images, labels, imagesPath, labelsPath);
  const [, rows, cols] = images.dims;
  const pixels = rows * cols;

  const xs = new Float32Array(picked.length * pixels);
  const ys = new Float32Array(picked.length * classes.length);
  picked.forEach((src, n) => {
    const from = src * pixels;
    for (let p = 0; p < pixels; p++) xs[n * pixels + p] = images.data[from + p] / 255;
    ys[n * classes.length + (position.get(labels.data[src]) as number)] = 1;
  });
  const shape = flatten ? [picked.length, pixels] : [picked.length, rows, cols, 1];
  return {
    split: { xs: tf.tensor(xs, shape, 'float32'), ys: tf.tensor2d(ys, [picked.length, classes.length], 'float32') },
    kept: picked.length,
    total,
  };
}

function checkLabels(labels: IdxArray, labelsPath: string, numLabels: number): void {
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsPath}: expected 1 dimension (labels), header says ${labels.dims.join('×')}`);
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] >= numLabels) {
      throw new Error(`${labelsPath}: label ${labels.data[i]} at index ${i} is outside 0…${numLabels - 1}`);
    }
  }
}

function checkImages(images: IdxArray, labels: IdxArray, imagesPath: string, labelsPath: string): void {
  if (images.dims.length !== 3) {
    throw new Error(`${imagesPath}: expected 3 dimensions (images × rows × columns), header says ${images.dims.join('×')}`);
  }
  const imageCount = images.fileItems ?? images.dims[0];
  if (imageCount !== labels.dims[0]) {
    throw new Error(`${imagesPath} has ${imageCount} images but ${labelsPath} has ${labels.dims[0]} labels`);
  }
}
