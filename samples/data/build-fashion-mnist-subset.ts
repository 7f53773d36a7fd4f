// Builds samples/data/fashion-mnist/ from the full Fashion-MNIST IDX files (Debian's
// dataset-fashion-mnist package puts them in /usr/share/datasets/fashion-mnist): the first 5000
// training and the first 1000 test images and labels, unchanged, in the same gzipped IDX format.
//
//   npx esbuild samples/data/build-fashion-mnist-subset.ts --bundle --platform=node \
//     --outfile=out/build-fashion-mnist-subset.js && node out/build-fashion-mnist-subset.js [SOURCE_DIR]
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readIdx, writeIdx } from '../../src/api/idx';

const source = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const target = resolve(process.argv[3] ?? join('samples', 'data', 'fashion-mnist'));
const splits: [prefix: string, count: number][] = [
  ['train', 5000],
  ['t10k', 1000],
];

mkdirSync(target, { recursive: true });
for (const [prefix, count] of splits) {
  for (const [kind, rank] of [['images', 3], ['labels', 1]] as const) {
    const file = `${prefix}-${kind}-idx${rank}-ubyte.gz`;
    const full = readIdx(join(source, file));
    if (full.dims[0] < count) throw new Error(`${file}: has ${full.dims[0]} items, need ${count}`);
    const perItem = full.dims.slice(1).reduce((a, b) => a * b, 1);
    const dims = [count, ...full.dims.slice(1)];
    writeIdx(join(target, file), { dims, data: full.data.slice(0, count * perItem) });
    console.log(`${file}: ${full.dims.join('×')} → ${dims.join('×')}`);
  }
}
