// The step-through panel's HTML: a strict Content Security Policy (nothing inline, nothing
// remote), a fresh crypto nonce on every script, and only files shipped with the extension.
// Type-only use of `vscode`: the Chromium tests call this very function with stand-ins.
import type * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

/** The panel's page for `webview`: loads dist/webview.js, the web components, codicons and the panel's css. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const base = extensionUri.path.replace(/\/+$/, '');
  const asset = (...path: string[]) =>
    webview.asWebviewUri(extensionUri.with({ path: `${base}/${path.join('/')}` })).toString();
  const csp = [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return panelDocument({
    csp,
    nonce,
    scriptUri: asset('dist', 'webview.js'),
    elementsUri: asset('dist', 'media', 'vscode-elements.js'),
    codiconUri: asset('dist', 'media', 'codicon.css'),
    styleUri: asset('media', 'panel.css'),
  });
}

export interface PanelDocumentParts {
  csp: string;
  nonce: string;
  scriptUri: string;
  elementsUri: string;
  codiconUri: string;
  styleUri: string;
}

/** The document itself, separate from `vscode` so the Chromium tests load the very same markup. */
export function panelDocument(p: PanelDocumentParts): string {
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(p.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${attr(p.codiconUri)}">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>Gradient Lens</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="placeholder">Waiting for the run…</p></main>
<script type="module" nonce="${attr(p.nonce)}" src="${attr(p.elementsUri)}"></script>
<script type="module" nonce="${attr(p.nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>
`;
}
