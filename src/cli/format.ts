// Plain-text rendering of summaries, step lines and step details for the terminal.
import type { LayerHealth } from '../shared/health';
import type { ModelSummary, RunError, StepRecord, TensorSummary } from '../shared/traceTypes';
import { roleSymbol, statsLine } from '../shared/format';
import { phaseStops } from '../shared/phases';
import { missingFromKeyframe } from '../shared/keyframeContents';


export function num(v: number | undefined | null, digits = 4): string {
  if (v === undefined || v === null) return '–';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(digits);
}

export function location(err: RunError): string {
  return err.location ? `${err.location.file}:${err.location.line}:${err.location.column}: ` : '';
}

export function formatError(err: RunError): string {
  const step = err.step !== undefined && err.kind !== 'syntax' ? ` (step ${err.step})` : '';
  return `${location(err)}error [${err.kind}]${step}: ${err.message}`;
}

export function formatSummary(model: ModelSummary): string {
  const rows = model.layers.map((l) => [
    `${l.index}`,
    `${l.name} (${l.type}${l.activation && l.activation !== 'linear' ? `, ${l.activation}` : ''})`,
    `[${l.outputShape.map((d) => d ?? 'batch').join(', ')}]`,
    l.paramCount.toLocaleString('en-US'),
    l.paramFormula,
    l.location ? `line ${l.location.line}` : '',
  ]);
  const header = ['#', 'layer', 'output shape', 'params', 'how', 'built at'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [
    `model ${model.name} (${model.kind})`,
    line(header),
    ...rows.map(line),
    `total params: ${model.totalParams.toLocaleString('en-US')} (trainable ${model.trainableParams.toLocaleString('en-US')})`,
  ].join('\n');
}

export function formatHealth(health: LayerHealth[], names: string[]): string {
  return health
    .map((h) => {
      const parts = [names[h.layer]];
      if (h.deadFraction !== undefined) parts.push(`dead ${Math.round(h.deadFraction * 100)}%`);
      if (h.gradNorm !== undefined) parts.push(`‖∂W‖ ${num(h.gradNorm, 3)}`);
      parts.push(h.flags.length ? `⚠ ${h.flags.join(',')}` : 'ok');
      return parts.join(' ');
    })
    .join(' | ');
}

function tensorLine(t: TensorSummary): string {
  // The panel's symbols (a, ∂L/∂W, ΔW…); a parameter's value is after the step's update.
  const name = t.role === 'param' ? `${roleSymbol(t.role, t.param)} (after)` : roleSymbol(t.role, t.param);
  return `    ${name.padEnd(12)} [${t.shape.join('×')}]  ${t.stats ? statsLine(t.stats, '  ') : '(no summary)'}`;
}

/** Every phase of one step, in the order the step-through walks them. */
export function formatStepDetail(record: StepRecord, model: ModelSummary, classNames?: string[]): string {
  const out: string[] = [`step ${record.step}  loss ${num(record.loss)}${record.accuracy !== undefined ? `  batch accuracy ${(record.accuracy * 100).toFixed(1)}%` : ''}${record.testAccuracy !== undefined ? `  test accuracy ${(record.testAccuracy * 100).toFixed(1)}%` : ''}  (${record.stepMs.toFixed(1)} ms${record.keyframe ? ', keyframe' : ''})`];
  const of = (layer: number, roles: string[]) => record.summaries.filter((s) => s.layer === layer && roles.includes(s.role));
  for (const stop of phaseStops(model.layers.length)) {
    const layer = model.layers[stop.layer];
    if (stop.phase === 'forward') {
      out.push(`  forward · ${layer.index} ${layer.name} (${layer.type})`);
      of(stop.layer, stop.layer === 0 ? ['input', 'preactivation', 'activation'] : ['preactivation', 'activation']).forEach((t) => out.push(tensorLine(t)));
    } else if (stop.phase === 'loss') {
      out.push(`  loss · ${num(record.loss)}`);
      for (const s of record.samples ?? []) {
        const best = s.prediction.indexOf(Math.max(...s.prediction));
        const target = s.target.length > 1 ? s.target.indexOf(Math.max(...s.target)) : s.target[0];
        const name = (i: number) => (classNames?.[i] ? `${i} ${classNames[i]}` : `${i}`);
        out.push(`    example ${s.index}: target ${s.target.length > 1 ? name(target) : num(target)}, predicted ${s.prediction.length > 1 ? `${name(best)} (p=${num(s.prediction[best], 3)})` : num(s.prediction[0])}`);
      }
    } else if (stop.phase === 'backward') {
      out.push(`  backward · ${layer.index} ${layer.name}`);
      of(stop.layer, ['gradActivation', 'gradPreactivation', 'gradParam']).forEach((t) => out.push(tensorLine(t)));
    } else {
      out.push('  update');
      for (const t of record.summaries.filter((s) => s.role === 'delta')) {
        const w = record.summaries.find((s) => s.role === 'param' && s.layer === t.layer && s.param === t.param);
        const ratio = w?.stats && t.stats && w.stats.l2 > 0 ? `  ‖Δ‖/‖W‖ ${num(t.stats.l2 / w.stats.l2)}` : '';
        out.push(`    ${model.layers[t.layer]?.name ?? t.layer} Δ${t.param} [${t.shape.join('×')}]  ${t.stats ? statsLine(t.stats, '  ') : ''}${ratio}`);
      }
    }
  }
  if (record.tensors.length > 0) {
    const kept = record.tensors.map((t) => `${t.layer}:${t.role}${t.param ? `.${t.param}` : ''}(${t.scope})`);
    out.push(`  kept tensors: ${kept.join(' ')}`);
  }
  out.push(...keyframeNotes(record, model));
  return out.join('\n');
}

/** What a keyframe lacks, by name, and how to keep it; nothing for a whole keyframe or an ordinary step. */
function keyframeNotes(record: StepRecord, model: ModelSummary): string[] {
  const name = (t: TensorSummary) => `${model.layers[t.layer]?.name ?? `layer ${t.layer}`} ${roleSymbol(t.role, t.param)}`;
  if (record.samplesDropped) return ['  note: summaries only on this step (the run is too long for its trace budget to keep the samples of every step)'];
  if (record.keyframeDropped) {
    return ['  note: this keyframe\'s full tensors were dropped to keep the trace within its byte budget (see "full tensors at" above; raise --trace-budget to keep more)'];
  }
  const missing = missingFromKeyframe(record);
  if (!missing || missing.length === 0) return [];
  const bytes = missing.reduce((n, t) => n + t.shape.reduce((a, d) => a * d, 1) * 4, 0);
  return [
    `  keyframe lacks ${missing.length} of ${record.summaries.length} tensors (${(bytes / 2 ** 20).toFixed(1)} MB more than its per-keyframe budget held; raise --keyframe-budget): ${missing.map(name).join(', ')}`,
  ];
}

/** Which steps have full tensors, shortened for a long run: the first few, the last few, how many. */
export function formatFullTensorSteps(steps: number[], budgetBytes: number | undefined): string {
  const budget = budgetBytes !== undefined ? ` (trace budget ${(budgetBytes / 2 ** 20).toFixed(0)} MB)` : '';
  if (steps.length === 0) return `full tensors at no step${budget}`;
  const list = steps.length <= 12 ? steps.join(', ') : `${steps.slice(0, 6).join(', ')}, … ${steps.slice(-3).join(', ')}`;
  return `full tensors at ${steps.length} step${steps.length === 1 ? '' : 's'}: ${list}${budget}`;
}
