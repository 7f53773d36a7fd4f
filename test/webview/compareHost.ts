// The test's stand-in host for a panel that compares its run with a baseline: the TraceHost's
// replies, plus what RunPanel does while comparing — `compare` right after `init`, the
// baseline's records for `requestBaselineStep`, a fresh `compare` for `compareTolerance`, and
// `compareEnded` on close — all from the same PanelComparison the extension uses. Built from a
// saved state's checked comparison (checkSavedComparison), it is the host after a window reload:
// a baseline that may not be restored is `compareEnded` with the check's notice, as RunPanel says.
import type { SavedComparisonCheck } from '../../src/extension/savedComparison';
import type { Envelope, FromWebview } from '../../src/shared/protocol';
import { PanelComparison } from '../../src/trace/compareMessage';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceHost } from './traceHost';

export class CompareHost extends TraceHost {
  private readonly compared: PanelComparison | undefined;
  private readonly notice: string | undefined;
  /** What the panel asked for with compareAction('report'). */
  reports = 0;

  constructor(run: TraceReader, baseline: string | SavedComparisonCheck) {
    super(run);
    const check: SavedComparisonCheck = typeof baseline === 'string' ? { kind: 'restore', baselineDir: baseline, tolerance: 0 } : baseline;
    if (check.kind === 'restore') this.compared = new PanelComparison(run, TraceReader.open(check.baselineDir), check.tolerance);
    else this.notice = check.notice;
  }

  get comparison(): PanelComparison {
    if (!this.compared) throw new Error('this host does not compare');
    return this.compared;
  }

  override handle(message: Envelope<FromWebview>): unknown[] {
    const replies = super.handle(message);
    const body = message.body;
    switch (body.type) {
      case 'ready':
        return [...replies, this.envelope(this.compared ? this.compared.message() : { type: 'compareEnded', notice: this.notice })];
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
    this.compared?.close();
  }
}
