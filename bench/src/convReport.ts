// The conv nets' part of bench/results.json (`conv.lesson13`, `conv.midsize`) and of
// bench/results.md (the table against PyTorch, the targets, and where a conv step's time goes),
// with bench/NOTES-conv.md (why a target is missed) after it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Outcome } from './report';

type Num = number | null;
const NETS = ['lesson13', 'midsize'] as const;
/** Traced step (runner pipeline, full capture) ÷ PyTorch, at most (issue 13). */
const TARGETS: Record<(typeof NETS)[number], number> = { lesson13: 3, midsize: 5 };

const num = (v: unknown): Num => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const ratio = (a: Num, b: Num): Num => (a === null || b === null || b === 0 ? null : Number((a / b).toFixed(2)));
const fmt = (v: Num, d = 1): string => (v === null ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: d }));

interface NetResult {
  net: string;
  batch: number;
  tracedMs: Num;
  tracedNoCaptureMs: Num;
  torchMs: Num;
  torchWhyNull: string | null;
  profile: {
    breakdown: Record<string, number>;
    phases: Record<string, number>;
    capture: Record<string, number>;
    ops: Record<string, Record<string, { ms: number; gflops: number }>>;
  };
}

function nets(conv: Outcome | undefined): Partial<Record<(typeof NETS)[number], NetResult>> {
  return ((conv?.result?.nets ?? {}) as Partial<Record<(typeof NETS)[number], NetResult>>);
}

/** results.json's `conv`: per net the three figures, their ratios, and the profile. */
export function convSummary(conv: Outcome | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of NETS) {
    const r = nets(conv)[name];
    const tracedMs = num(r?.tracedMs);
    const torchMs = num(r?.torchMs);
    out[name] = {
      batch: r?.batch ?? null,
      tracedMs,
      tracedNoCaptureMs: num(r?.tracedNoCaptureMs),
      torchMs,
      tracedOverTorch: ratio(tracedMs, torchMs),
      captureCost: ratio(tracedMs, num(r?.tracedNoCaptureMs)),
      target: `tracedMs ≤ ${TARGETS[name]}× torchMs`,
      whyNull: r ? (torchMs === null ? r.torchWhyNull : null) : (conv?.error ?? 'not run'),
      profile: r?.profile ?? null,
    };
  }
  return out;
}

/** results.md's section on the conv nets. */
export function convSection(conv: Outcome | undefined, benchDir: string): string[] {
  const L: string[] = [];
  L.push('## 6. Convolutional nets (wasm), traced step against PyTorch');
  L.push('');
  const all = nets(conv);
  if (!conv?.result) {
    L.push(`Not measured: ${conv?.error ?? 'not run'}.`);
    L.push('');
    return L;
  }
  const res = conv.result;
  L.push(`SGD (lr ${String(res.learningRate)}) on both sides, categorical cross-entropy, the same Fashion-MNIST batches; rounds interleaved (tfjs traced through the runner's capture pipeline, tfjs traced with capture off, PyTorch). Median ms per step.`);
  L.push('');
  L.push('| net | batch | traced, full capture (runner pipeline) | traced, capture off | PyTorch | traced ÷ PyTorch | target | capture cost |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const name of NETS) {
    const r = all[name];
    if (!r) continue;
    const over = ratio(num(r.tracedMs), num(r.torchMs));
    const target = TARGETS[name];
    const verdict = over === null ? `not measured: ${r.torchWhyNull ?? 'no PyTorch figure'}` : over <= target ? '✅ met' : `❌ missed: ${fmt(over, 2)}× against ≤ ${target}× (${fmt(over / target, 2)}× the target)`;
    L.push(`| ${name} | ${r.batch} | **${fmt(num(r.tracedMs))}** | ${fmt(num(r.tracedNoCaptureMs))} | ${fmt(num(r.torchMs), 2)} | **${fmt(over, 2)}×** | ≤ ${target}×: ${verdict} | ${fmt(ratio(num(r.tracedMs), num(r.tracedNoCaptureMs)), 2)}× |`);
  }
  L.push('');
  const beforeFile = path.join(benchDir, 'results-conv-before.json');
  if (fs.existsSync(beforeFile)) {
    const before = JSON.parse(fs.readFileSync(beforeFile, 'utf8')) as { engine: string; measuredAt: string; how: string; nets: Partial<Record<(typeof NETS)[number], NetResult>> };
    const rows = NETS.map((name) => {
      const b = before.nets[name];
      return b ? `${name}: traced ${fmt(num(b.tracedMs))} ms, capture off ${fmt(num(b.tracedNoCaptureMs))} ms, PyTorch ${fmt(num(b.torchMs), 2)} ms: **${fmt(ratio(num(b.tracedMs), num(b.torchMs)), 2)}×** PyTorch` : `${name}: —`;
    });
    L.push(`Before this work (engine ${before.engine}; measured ${before.measuredAt}, ${before.how}): ${rows.join('; ')}. Compare the ratios, not the milliseconds: the two runs had different loads.`);
    L.push('');
  }
  for (const name of NETS) {
    const r = all[name];
    if (!r) continue;
    L.push(`### Where the time goes: ${name} (${r.net}), batch ${r.batch}`);
    L.push('');
    const b = r.profile.breakdown;
    L.push(`Per step, capture off (median of each phase of the traced step): ${Object.entries(b).map(([k, ms]) => `${k} **${fmt(ms, 2)} ms**`).join('; ')}. Capture, inline: copy out of the backend ${fmt(num(r.profile.capture.readBackMs), 2)} ms (the runner's training thread), buildStepRecord ${fmt(num(r.profile.capture.buildStepRecordMs), 2)} ms (the capture worker's part), for ${fmt(num(r.profile.capture.capturedMBPerStep), 1)} MB of float32 tensors captured a step.`);
    L.push('');
    L.push(`Phases: ${Object.entries(r.profile.phases).map(([k, ms]) => `${k} ${fmt(ms, 2)}`).join(' · ')} (ms).`);
    L.push('');
    L.push('Ops of each conv layer at its shapes, forms interleaved, a new kernel tensor each call (ms, GFLOP/s of the conv):');
    L.push('');
    for (const [layer, forms] of Object.entries(r.profile.ops)) {
      L.push(`- ${layer}: ${Object.entries(forms).map(([form, v]) => `${form} **${fmt(v.ms, 2)}**${v.gflops ? ` (${fmt(v.gflops, 1)})` : ''}`).join('; ')}`);
    }
    L.push('');
  }
  const notes = path.join(benchDir, 'NOTES-conv.md');
  if (fs.existsSync(notes)) {
    L.push(fs.readFileSync(notes, 'utf8').trim());
    L.push('');
  }
  return L;
}
