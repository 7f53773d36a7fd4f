// Keyboard shortcuts for the whole panel. Keys a focused control uses itself (arrows on the
// slider, Space/Enter on a button, anything in a select) are left to that control.
import type { PanelController } from './controller';
import { h } from './dom';
import { SPEEDS, controllable, type Store } from './state';

export const SHORTCUTS: [string, string][] = [
  ['← / →', 'previous / next phase'],
  ['Shift+← / Shift+→', 'previous / next step'],
  ['Home / End', 'first / last step'],
  ['Space', 'play / pause'],
  ['+ / −', 'faster / slower'],
  ['[ / ]', 'select the previous / next layer'],
  ['G', 'go to step (focus the slider)'],
  ['P, I, O, Shift+S', 'live run: pause/continue, step a phase, step a batch, stop'],
];

function ownsKey(target: EventTarget | null, key: string): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  if (tag === 'SELECT' || tag === 'TEXTAREA') return true;
  if (tag === 'INPUT') {
    if ((target as HTMLInputElement).type !== 'range') return true;
    return key.startsWith('Arrow') || key === 'Home' || key === 'End' || key === 'PageUp' || key === 'PageDown';
  }
  if ((tag === 'BUTTON' || tag === 'SUMMARY' || tag.startsWith('VSCODE-')) && (key === ' ' || key === 'Enter')) return true;
  return false;
}

export function installShortcuts(store: Store, c: PanelController, focusSlider: () => void): void {
  window.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (ownsKey(e.target, e.key)) return;
    const s = store.state;
    let handled = true;
    switch (e.key) {
      case 'ArrowRight':
        if (e.shiftKey) c.nextStep();
        else c.nextPhase();
        break;
      case 'ArrowLeft':
        if (e.shiftKey) c.prevStep();
        else c.prevPhase();
        break;
      case 'Home':
        c.first();
        break;
      case 'End':
        c.last();
        break;
      case ' ':
        c.togglePlay();
        break;
      case '+':
      case '=':
        c.setSpeed(Math.min(SPEEDS.length - 1, s.speed + 1));
        break;
      case '-':
        c.setSpeed(Math.max(0, s.speed - 1));
        break;
      case '[':
        c.selectLayer(s.selectedLayer - 1);
        break;
      case ']':
        c.selectLayer(s.selectedLayer + 1);
        break;
      case 'g':
      case 'G':
        focusSlider();
        break;
      case 'p':
      case 'P':
        if (controllable(s)) c.control(s.runState === 'paused' ? 'continue' : 'pause');
        else handled = false;
        break;
      case 'i':
      case 'I':
        if (controllable(s)) c.control('stepPhase');
        else handled = false;
        break;
      case 'o':
      case 'O':
        if (controllable(s)) c.control('stepBatch');
        else handled = false;
        break;
      case 'S':
        if (controllable(s) && e.shiftKey) c.control('stop');
        else handled = false;
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  });
}

export function shortcutHelp(): HTMLElement {
  const list = h('dl', { class: 'shortcuts' });
  for (const [k, v] of SHORTCUTS) list.append(h('dt', {}, h('kbd', { text: k })), h('dd', { text: v }));
  return h('details', { class: 'help' }, h('summary', {}, h('span', { class: 'codicon codicon-keyboard', 'aria-hidden': 'true' }), ' Keyboard shortcuts'), list);
}
