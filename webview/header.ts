// The top of the panel: the model's name and size, the backend badge, and a banner when the run
// failed, with the error's message and where in the user's file it happened.
import type { RunError } from '../src/shared/traceTypes';
import { h, setHidden, setText } from './dom';
import { baseName, formatInt } from '../src/shared/format';
import type { ModelKey, PanelModel, Store } from './state';

const BACKEND_WORDS: Record<string, string> = { tensorflow: 'native (libtensorflow)', wasm: 'wasm', cpu: 'cpu (plain JS)' };

export class Header {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly total: HTMLElement;
  private readonly backend: HTMLElement;
  private readonly state: HTMLElement;
  private readonly banner: HTMLElement;

  constructor(store: Store) {
    this.title = h('h1', { id: 'model-name' });
    this.total = h('span', { class: 'total', id: 'total-params' });
    this.backend = h('vscode-badge', { id: 'backend', class: 'backend' });
    this.state = h('span', { class: 'run-state', id: 'run-state' });
    this.banner = h('div', { class: 'banner', id: 'error-banner', role: 'alert' });
    this.banner.hidden = true;
    this.el = h('header', { class: 'header' }, h('div', { class: 'title-row' }, this.title, this.total, this.backend, this.state), this.banner);
    store.subscribe((m, changed) => this.update(m, changed));
  }

  private update(m: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    if (changed.has('meta') && m.meta) {
      const model = m.meta.model;
      setText(this.title, model.name || baseName(m.meta.file));
      this.title.title = m.meta.file;
      setText(this.total, `${model.layers.length} layers · ${formatInt(model.totalParams)} parameters`);
      const b = m.meta.backend;
      setText(this.backend, `backend: ${BACKEND_WORDS[b.name] ?? b.name}${b.simd ? ' SIMD' : ''}`);
      this.backend.title = b.reason;
      this.backend.setAttribute('aria-label', `Backend ${BACKEND_WORDS[b.name] ?? b.name}: ${b.reason}`);
    }
    if (changed.has('runState') || changed.has('live')) {
      setText(this.state, m.live || m.runState === 'failed' ? m.runState : '');
      this.state.dataset.state = m.runState;
    }
    if (changed.has('error')) this.renderError(m.error);
  }

  private renderError(error: RunError | undefined): void {
    setHidden(this.banner, !error);
    if (!error) {
      this.banner.replaceChildren();
      return;
    }
    const where: string[] = [];
    if (error.location) where.push(`${baseName(error.location.file)}:${error.location.line}:${error.location.column}`);
    if (error.step !== undefined) where.push(`step ${formatInt(error.step)}`);
    if (error.layerName) where.push(`layer ${error.layerName}`);
    const location = h('div', { class: 'banner-location', id: 'error-location', text: where.length > 0 ? `at ${where.join(' · ')}` : 'location unknown' });
    if (error.location) location.title = error.location.file;
    this.banner.replaceChildren(
      h('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }),
      h('div', { class: 'banner-body' }, h('strong', { text: `The run failed (${error.kind}): ` }), h('span', { id: 'error-message', text: error.message }), location),
    );
  }
}
