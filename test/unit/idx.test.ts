import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { encodeIdx, parseIdx, readIdx, writeIdx } from '../../src/api/idx';
import {
  FASHION_MNIST_CLASSES,
  findShippedSubset,
  loadFashionMnist,
  loadMnistIdx,
  resolveFashionMnistDir,
} from '../../src/api/data';

function subsetDir(): string {
  const dir = findShippedSubset();
  assert.ok(dir, 'samples/data/fashion-mnist is found upward from the test bundle');
  return dir;
}

/** One-hot rows → class indices. */
async function classesOf(ys: tf.Tensor): Promise<number[]> {
  const idx = tf.argMax(ys, 1);
  const out = Array.from(await idx.data());
  idx.dispose();
  return out;
}

describe('IDX reader', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gl-idx-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads the shipped Fashion-MNIST subset: headers, shapes, labels 0…9', () => {
    const dir = subsetDir();
    const cases: [string, number[]][] = [
      ['train-images-idx3-ubyte.gz', [5000, 28, 28]],
      ['train-labels-idx1-ubyte.gz', [5000]],
      ['t10k-images-idx3-ubyte.gz', [1000, 28, 28]],
      ['t10k-labels-idx1-ubyte.gz', [1000]],
    ];
    for (const [file, dims] of cases) {
      const idx = readIdx(join(dir, file));
      assert.deepEqual(idx.dims, dims, file);
      assert.equal(idx.data.length, dims.reduce((a, b) => a * b, 1), file);
      if (file.includes('labels')) {
        const seen = new Set(idx.data);
        assert.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `${file}: every class present, nothing else`);
      }
    }
    // Real photographs, not blank or constant: pixels span the full byte range.
    const images = readIdx(join(dir, 't10k-images-idx3-ubyte.gz')).data;
    assert.equal(Math.min(...images.subarray(0, 784)), 0);
    assert.ok(Math.max(...images.subarray(0, 784)) > 200);
  });

  it('round-trips writeIdx → readIdx, gzipped and plain', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
    for (const name of ['a-idx3-ubyte', 'a-idx3-ubyte.gz']) {
      writeIdx(join(tmp, name), { dims: [2, 3, 4], data });
      const back = readIdx(join(tmp, name));
      assert.deepEqual(back.dims, [2, 3, 4]);
      assert.deepEqual(Array.from(back.data), Array.from(data));
    }
  });

  it('the first items only: a gzipped file is inflated as far as they go, the same bytes as a whole read', () => {
    const images = join(subsetDir(), 'train-images-idx3-ubyte.gz');
    const whole = readIdx(images);
    const first = readIdx(images, 2000);
    assert.deepEqual(first.dims, [2000, 28, 28]);
    assert.equal(first.fileItems, 5000);
    assert.ok(Buffer.from(first.data).equals(Buffer.from(whole.data.subarray(0, 2000 * 784))), 'the same pixels');
    // Damage past the items read is not read; damage inside them is still an error.
    const gz = readFileSync(images);
    const cut = join(tmp, 'cut-images-idx3-ubyte.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.8)));
    assert.equal(readIdx(cut, 100).data.length, 100 * 784);
    assert.throws(() => readIdx(cut, 4900), /cut-images-idx3-ubyte\.gz: truncated: its first 4900 items need 3841600 bytes of data/);
    assert.deepEqual(readIdx(images, 9999).dims, [5000, 28, 28], 'asking for more than the file holds reads it all');
  });

  it('rejects a truncated file, naming the file and the sizes', () => {
    const whole = encodeIdx({ dims: [3, 28, 28], data: new Uint8Array(3 * 28 * 28) });
    const file = join(tmp, 'train-images-idx3-ubyte.gz');
    writeFileSync(file, gzipSync(whole.subarray(0, 16 + 1234)));
    assert.throws(() => readIdx(file), {
      message: 'train-images-idx3-ubyte.gz: truncated: header says 3×28×28 = 2352 bytes of data, file has 1234',
    });
  });

  it('rejects a cut gzip stream and a file shorter than its header', () => {
    const gz = join(tmp, 'cut-labels-idx1-ubyte.gz');
    writeFileSync(gz, readFileSync(join(subsetDir(), 'train-labels-idx1-ubyte.gz')).subarray(0, 1000));
    assert.throws(() => readIdx(gz), /^Error: cut-labels-idx1-ubyte\.gz: corrupt or truncated gzip data/);
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0), 'x-idx3-ubyte'), {
      message: 'x-idx3-ubyte: truncated: header of 3 dimensions needs 16 bytes, file has 6',
    });
  });

  it('rejects a bad magic, an unsupported type, and trailing bytes', () => {
    const bad = join(tmp, 'bad-idx1-ubyte');
    writeFileSync(bad, Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0, 0));
    assert.throws(() => readIdx(bad), /^Error: bad-idx1-ubyte: bad magic 0x50 0x4b 0x03 0x04/);
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0), 'f.idx'), {
      message: 'f.idx: unsupported data type 0x0d (float32); only 0x08 (unsigned byte) is supported',
    });
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 0x42, 1), 'g.idx'), /g\.idx: bad magic: unknown data type 0x42/);
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 5, 6, 7), 'h.idx'), {
      message: 'h.idx: 1 unexpected trailing bytes: header says 2 = 2 bytes of data, file has 3',
    });
    const notGzip = join(tmp, 'plain-idx1-ubyte.gz');
    writeFileSync(notGzip, encodeIdx({ dims: [1], data: Uint8Array.of(1) }));
    assert.throws(() => readIdx(notGzip), /plain-idx1-ubyte\.gz: not gzip data/);
  });
});

describe('loadFashionMnist', () => {
  it('gives [n,784] pixels in [0,1] and one-hot [n,10] targets matching the label file', async () => {
    const data = loadFashionMnist({ trainCount: 300, testCount: 100, dir: subsetDir() });
    assert.deepEqual(data.train.xs.shape, [300, 784]);
    assert.deepEqual(data.train.ys.shape, [300, 10]);
    assert.deepEqual(data.test.xs.shape, [100, 784]);
    assert.deepEqual(data.test.ys.shape, [100, 10]);
    assert.equal(data.train.xs.dtype, 'float32');
    assert.equal(data.train.ys.dtype, 'float32');
    assert.deepEqual(data.classNames, FASHION_MNIST_CLASSES);
    assert.match(data.source, /300 of 5000 training, 100 of 1000 test images/);

    const [min, max] = [data.train.xs.min().dataSync()[0], data.train.xs.max().dataSync()[0]];
    assert.equal(min, 0);
    assert.equal(max, 1);
    const ys = await data.train.ys.array() as number[][];
    for (const row of ys) {
      assert.equal(row.reduce((a, b) => a + b, 0), 1);
      assert.ok(row.every((v) => v === 0 || v === 1));
    }
    const labels = readIdx(join(subsetDir(), 'train-labels-idx1-ubyte.gz')).data;
    assert.deepEqual(await classesOf(data.train.ys), Array.from(labels.subarray(0, 300)));
    // Pixel 0..783 of image 0 are the first 784 bytes, scaled by 1/255.
    const raw = readIdx(join(subsetDir(), 'train-images-idx3-ubyte.gz')).data;
    const first = data.train.xs.slice([0, 0], [1, 784]).dataSync();
    for (let i = 0; i < 784; i++) assert.ok(Math.abs(first[i] - raw[i] / 255) < 1e-7);
    tf.dispose([data.train.xs, data.train.ys, data.test.xs, data.test.ys]);
  });

  it('keeps the image shape with flatten: false', () => {
    const data = loadFashionMnist({ trainCount: 10, testCount: 5, flatten: false });
    assert.deepEqual(data.train.xs.shape, [10, 28, 28, 1]);
    assert.deepEqual(data.test.xs.shape, [5, 28, 28, 1]);
    tf.dispose([data.train.xs, data.train.ys, data.test.xs, data.test.ys]);
  });

  it('filters classes and re-indexes their one-hot targets', async () => {
    const data = loadFashionMnist({ trainCount: 50, testCount: 20, classes: [7, 1], dir: subsetDir() });
    assert.deepEqual(data.classNames, ['Sneaker', 'Trouser']);
    assert.deepEqual(data.train.ys.shape, [50, 2]);
    const labels = Array.from(readIdx(join(subsetDir(), 'train-labels-idx1-ubyte.gz')).data);
    const expected = labels.filter((l) => l === 7 || l === 1).slice(0, 50).map((l) => (l === 7 ? 0 : 1));
    assert.deepEqual(await classesOf(data.train.ys), expected);
    tf.dispose([data.train.xs, data.train.ys, data.test.xs, data.test.ys]);
  });

  it('prefers the shipped subset when it is big enough; the full Debian set otherwise', () => {
    const saved = process.env.GRADIENT_LENS_DATA;
    delete process.env.GRADIENT_LENS_DATA;
    try {
      assert.equal(resolveFashionMnistDir({ trainCount: 5000, testCount: 1000 }), subsetDir());
      assert.equal(resolveFashionMnistDir({ dir: '/some/where' }), '/some/where');
      process.env.GRADIENT_LENS_DATA = '/from/env';
      assert.equal(resolveFashionMnistDir({ trainCount: 10 }), '/from/env');
      delete process.env.GRADIENT_LENS_DATA;
      const big = resolveFashionMnistDir({ trainCount: 6000 });
      // Without the Debian package the subset is the only candidate, and loading then says it is too small.
      assert.ok(big === '/usr/share/datasets/fashion-mnist' || big === subsetDir());
    } finally {
      if (saved === undefined) delete process.env.GRADIENT_LENS_DATA;
      else process.env.GRADIENT_LENS_DATA = saved;
    }
  });

  it('says so when a folder holds fewer images than asked for', () => {
    assert.throws(
      () => loadFashionMnist({ dir: subsetDir(), trainCount: 5001 }),
      /train-images-idx3-ubyte\.gz: asked for 5001 training images, the file has 5000/,
    );
  });
});

describe('loadMnistIdx', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gl-mnist-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads any MNIST-format folder, plain or dotted names, any image size', async () => {
    // A 4-image fixture of 2×3 pixels (test data for the reader, not a data set).
    writeIdx(join(tmp, 'train-images.idx3-ubyte'), { dims: [4, 2, 3], data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) });
    writeIdx(join(tmp, 'train-labels.idx1-ubyte'), { dims: [4], data: Uint8Array.of(3, 0, 9, 3) });
    writeIdx(join(tmp, 't10k-images-idx3-ubyte.gz'), { dims: [1, 2, 3], data: Uint8Array.of(0, 51, 102, 153, 204, 255) });
    writeIdx(join(tmp, 't10k-labels-idx1-ubyte.gz'), { dims: [1], data: Uint8Array.of(5) });
    const data = loadMnistIdx(tmp, { flatten: false });
    assert.deepEqual(data.train.xs.shape, [4, 2, 3, 1]);
    assert.deepEqual(data.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(await classesOf(data.train.ys), [3, 0, 9, 3]);
    assert.deepEqual(Array.from(data.test.xs.dataSync()).map((v) => Math.round(v * 255)), [0, 51, 102, 153, 204, 255]);
    tf.dispose([data.train.xs, data.train.ys, data.test.xs, data.test.ys]);
  });

  it('rejects mismatched image and label counts and out-of-range labels', () => {
    writeIdx(join(tmp, 'train-labels.idx1-ubyte'), { dims: [3], data: Uint8Array.of(1, 2, 3) });
    assert.throws(() => loadMnistIdx(tmp), /has 4 images but .*train-labels\.idx1-ubyte has 3 labels/);
    writeIdx(join(tmp, 'train-labels.idx1-ubyte'), { dims: [4], data: Uint8Array.of(1, 2, 3, 12) });
    assert.throws(() => loadMnistIdx(tmp), /label 12 at index 3 is outside 0…9/);
  });
});
