// The harness page: the panel's real HTML (from panelHtml, with its strict CSP) served from a
// small http server on 127.0.0.1, plus a nonce'd stand-in for `acquireVsCodeApi` and the theme
// variables VS Code would set. The stand-in records what the panel posts and its setState
// calls, keeps the state across reloads (sessionStorage, as VS Code keeps it across a webview
// reload), hands each message to the test's host through a Playwright binding and delivers the
// replies as `message` events, with typed arrays revived (VS Code transfers them as such).
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { panelHtml } from '../../src/extension/panelHtml';

export const ROOT = path.resolve(__dirname, '../../..');

export type ThemeName = 'light' | 'dark' | 'high-contrast';

const STUB = `
(() => {
  const revive = (v) => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      if (v.__typed) {
        const bytes = Uint8Array.from(atob(v.b64), (c) => c.charCodeAt(0));
        return new globalThis[v.__typed](bytes.buffer);
      }
      const out = {};
      for (const k of Object.keys(v)) out[k] = revive(v[k]);
      return out;
    }
    return v;
  };
  const harness = (window.__harness = { posted: [], states: [], violations: [], deliveries: 0 });
  harness.deliver = (envelope) => {
    harness.deliveries++;
    window.dispatchEvent(new MessageEvent('message', { data: revive(envelope) }));
  };
  document.addEventListener('securitypolicyviolation', (e) => {
    harness.violations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi called twice');
    acquired = true;
    return {
      postMessage(message) {
        harness.posted.push(message);
        Promise.resolve(window.__harnessToHost(JSON.parse(JSON.stringify(message)))).then((replies) => {
          for (const r of replies || []) harness.deliver(r);
        });
      },
      getState() {
        const s = sessionStorage.getItem('vscodeState');
        return s ? JSON.parse(s) : undefined;
      },
      setState(state) {
        harness.states.push(state);
        sessionStorage.setItem('vscodeState', JSON.stringify(state));
        return state;
      },
    };
  };
})();
`;

// The variables VS Code sets for its Light+ / Dark+ / High Contrast themes (the ones the panel uses).
const THEMES: Record<ThemeName, Record<string, string>> = {
  light: {
    foreground: '#3b3b3b', 'editor-background': '#ffffff', descriptionForeground: '#717171', 'panel-border': '#e5e5e5',
    'widget-border': '#e5e5e5', focusBorder: '#005fb8', errorForeground: '#f85149', 'charts-red': '#e51400',
    'charts-blue': '#1a85ff', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-yellow': '#bf8803',
    'charts-purple': '#652d90', 'inputValidation-errorBackground': '#f2dede', 'inputValidation-errorBorder': '#be1100',
    'editorHoverWidget-background': '#f8f8f8', 'editorHoverWidget-foreground': '#3b3b3b', 'editorHoverWidget-border': '#c8c8c8',
    'button-background': '#005fb8', 'dropdown-background': '#ffffff', 'dropdown-foreground': '#3b3b3b', 'dropdown-border': '#cecece',
    'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b', 'textLink-foreground': '#005fb8', 'icon-foreground': '#3b3b3b',
    'toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)', 'widget-shadow': 'rgba(0, 0, 0, 0.16)', 'input-background': '#ffffff',
    'editorWidget-background': '#f8f8f8', 'editorWarning-foreground': '#bf8803', 'keybindingLabel-background': 'rgba(221, 221, 221, 0.4)',
    'keybindingLabel-border': 'rgba(204, 204, 204, 0.4)', 'keybindingLabel-foreground': '#3b3b3b',
  },
  dark: {
    foreground: '#cccccc', 'editor-background': '#1f1f1f', descriptionForeground: '#9d9d9d', 'panel-border': '#2b2b2b',
    'widget-border': '#313131', focusBorder: '#0078d4', errorForeground: '#f85149', 'charts-red': '#f14c4c',
    'charts-blue': '#3794ff', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-yellow': '#cca700',
    'charts-purple': '#b180d7', 'inputValidation-errorBackground': '#5a1d1d', 'inputValidation-errorBorder': '#be1100',
    'editorHoverWidget-background': '#202020', 'editorHoverWidget-foreground': '#cccccc', 'editorHoverWidget-border': '#454545',
    'button-background': '#0078d4', 'dropdown-background': '#313131', 'dropdown-foreground': '#cccccc', 'dropdown-border': '#3c3c3c',
    'badge-background': '#616161', 'badge-foreground': '#f8f8f8', 'textLink-foreground': '#4daafc', 'icon-foreground': '#cccccc',
    'toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)', 'widget-shadow': 'rgba(0, 0, 0, 0.36)', 'input-background': '#313131',
    'editorWidget-background': '#202020', 'editorWarning-foreground': '#cca700', 'keybindingLabel-background': 'rgba(128, 128, 128, 0.17)',
    'keybindingLabel-border': 'rgba(51, 51, 51, 0.6)', 'keybindingLabel-foreground': '#cccccc',
  },
  'high-contrast': {
    foreground: '#ffffff', 'editor-background': '#000000', descriptionForeground: '#ffffff', 'panel-border': '#6fc3df',
    'widget-border': '#6fc3df', contrastBorder: '#6fc3df', focusBorder: '#f38518', errorForeground: '#f48771', 'charts-red': '#f48771',
    'charts-blue': '#3794ff', 'charts-orange': '#ff8c00', 'charts-green': '#89d185', 'charts-yellow': '#ffd700',
    'charts-purple': '#b180d7', 'inputValidation-errorBackground': '#000000', 'inputValidation-errorBorder': '#f38518',
    'editorHoverWidget-background': '#0c141f', 'editorHoverWidget-foreground': '#ffffff', 'editorHoverWidget-border': '#6fc3df',
    'button-background': '#000000', 'dropdown-background': '#000000', 'dropdown-foreground': '#ffffff', 'dropdown-border': '#6fc3df',
    'badge-background': '#000000', 'badge-foreground': '#ffffff', 'textLink-foreground': '#21a6ff', 'icon-foreground': '#ffffff',
    'toolbar-hoverBackground': 'transparent', 'widget-shadow': 'transparent', 'input-background': '#000000',
    'editorWidget-background': '#0c141f', 'editorWarning-foreground': '#ffd700', 'keybindingLabel-background': 'transparent',
    'keybindingLabel-border': '#6fc3df', 'keybindingLabel-foreground': '#ffffff',
  },
};

function themeCss(): string {
  const common = `--vscode-font-family: system-ui, -apple-system, "Segoe UI", "Ubuntu", "Droid Sans", sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: "Droid Sans Mono", monospace;`;
  return Object.entries(THEMES)
    .map(([name, vars]) => `body.vscode-${name} { ${common} ${Object.entries(vars).map(([k, v]) => `--vscode-${k}: ${v};`).join(' ')} }`)
    .join('\n');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.html': 'text/html',
};

export interface HarnessServer {
  origin: string;
  url(theme: ThemeName): string;
  close(): Promise<void>;
}

/** Serves the panel page at /?theme=…, dist/ and media/ from the repository, and the harness files. */
export async function startHarnessServer(): Promise<HarnessServer> {
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/') {
      const theme = (url.searchParams.get('theme') ?? 'light') as ThemeName;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(harnessHtml(origin, theme));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/harness/theme.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(themeCss());
      return;
    }
    if (url.pathname === '/harness/stub.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(STUB);
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    if (!/^(dist|media)[/\\]/.test(rel)) {
      res.writeHead(404).end();
      return;
    }
    const file = path.join(ROOT, rel);
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (theme) => `${origin}/?theme=${theme}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** panelHtml's page, as VS Code would serve it, with the harness's stub and theme added. */
function harnessHtml(origin: string, theme: ThemeName): string {
  interface FakeUri {
    path: string;
    with(change: { path: string }): FakeUri;
    toString(): string;
  }
  const uri = (p: string): FakeUri => ({ path: p, with: (c) => uri(c.path), toString: () => `${origin}${p}` });
  const webview = { cspSource: origin, asWebviewUri: (u: FakeUri) => u };
  const html = panelHtml(webview as never, uri('/') as never);
  const nonce = /nonce="([^"]+)"/.exec(html)?.[1] ?? '';
  return html
    .replace('</head>', `<link rel="stylesheet" href="${origin}/harness/theme.css">\n<script nonce="${nonce}" src="${origin}/harness/stub.js"></script>\n</head>`)
    .replace('<body>', `<body class="vscode-${theme}">`);
}
