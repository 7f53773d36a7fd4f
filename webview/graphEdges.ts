// A functional model's edges, one SVG path each (under the diagram's canvas), so each edge is
// an element: the phase being traced highlights the edges it crosses — going forward, the
// edges into the node being computed; going backward, the same edges carry its gradient back
// to what it read; at the loss, the edges from the outputs. Colours are set as presentation
// attributes (the CSP forbids inline styles).
import type { PhaseStop } from '../src/shared/phases';
import type { Theme } from './theme';

const SVG = 'http://www.w3.org/2000/svg';

export interface EdgeEnds {
  /** Producer: a node's index, or −1 − an input's index. */
  from: number;
  /** Reader: a node's index, or the loss. */
  to: number | 'loss';
  a: { x: number; y: number };
  b: { x: number; y: number };
}

const rgb = (c: readonly [number, number, number]) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

export class GraphEdges {
  readonly el: SVGSVGElement;
  private ends: EdgeEnds[] = [];
  private paths: SVGPathElement[] = [];

  constructor() {
    this.el = document.createElementNS(SVG, 'svg');
    this.el.setAttribute('class', 'network-edges');
    this.el.setAttribute('aria-hidden', 'true');
  }

  clear(): void {
    this.ends = [];
    this.paths = [];
    this.el.replaceChildren();
  }

  layout(ends: EdgeEnds[], width: number, height: number): void {
    this.el.setAttribute('width', String(width));
    this.el.setAttribute('height', String(height));
    this.el.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.ends = ends;
    this.paths = ends.map((e) => {
      const p = document.createElementNS(SVG, 'path');
      // A horizontal S-curve: leaves and enters its boxes level, so parallel branches stay apart.
      const mid = (e.a.x + e.b.x) / 2;
      p.setAttribute('d', `M ${e.a.x} ${e.a.y} C ${mid} ${e.a.y}, ${mid} ${e.b.y}, ${e.b.x} ${e.b.y}`);
      p.setAttribute('fill', 'none');
      p.setAttribute('class', e.to === 'loss' ? 'graph-edge loss-edge' : 'graph-edge');
      p.dataset.from = String(e.from);
      p.dataset.to = String(e.to);
      return p;
    });
    this.el.replaceChildren(...this.paths);
  }

  /** Colours every edge for the phase: the ones it crosses bright, the rest quiet. */
  highlight(stop: PhaseStop, t: Theme): void {
    this.paths.forEach((p, i) => {
      const e = this.ends[i];
      const forward = stop.phase === 'forward' && e.to === stop.layer;
      const backward = stop.phase === 'backward' && e.to === stop.layer;
      const loss = stop.phase === 'loss' && e.to === 'loss';
      const hot = forward || backward || loss;
      p.setAttribute('stroke', hot ? (backward ? rgb(t.negative) : rgb(t.positive)) : t.muted);
      p.setAttribute('stroke-width', hot ? '2.5' : '1.2');
      p.setAttribute('stroke-opacity', hot ? '0.9' : '0.55');
      p.classList.toggle('hot', hot);
      p.dataset.phase = hot ? stop.phase : '';
    });
  }
}
