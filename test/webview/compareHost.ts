// The test's stand-in host for a panel that compares its run with a baseline: the TraceHost's
// replies, plus what RunPanel does while comparing — `compare` right after `init`, the
// baseline's records for `requestBaselineStep`, a fresh `compare` for `compareTolerance`, and
// `compareEnded` on close — all from the same PanelComparison the extension uses.
import type { Envelope, FromWebview } from '../../src/shared/protocol';
import { PanelComparison } from '../../src/trace/compareMessage';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceHost } from './traceHost';

export class CompareHost extends TraceHost {
  readonly comparison: PanelComparison;
  /** What the panel asked for with compareAction('report'). */
  reports = 0;

  constructor(run: TraceReader, baselineDir: string) {
    super(run);
    this.comparison = new PanelComparison(run, TraceReader.open(baselineDir));
  }

  override handle(message: Envelope<FromWebview>): unknown[] {
    const replies = super.handle(message);
    const body = message.body;
    switch (body.type) {
      case 'ready':
        return [...replies, this.envelope(this.comparison.message())];
      case 'requestBaselineStep':
        return [this.envelope(this.comparison.baselineStep(body.step), message.id)];
      case 'compareTolerance':
        this.comparison.setTolerance(body.tolerance);
        return [this.envelope(this.comparison.message())];
      case 'compareAction':
        if (body.action === 'report') {
          this.reports++;
          return [];
        }
        return [this.envelope({ type: 'compareEnded' })];
      default:
        return replies;
    }
  }

  close(): void {
    this.comparison.close();
  }
}
