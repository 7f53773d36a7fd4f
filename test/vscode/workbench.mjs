// Drives the VS Code workbench that code-server serves, in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core). The extension-host tests use the same contract as
// @vscode/test-electron: the `payload` query names the extension under development and the test
// module, and the workbench reports the result through window.codeAutomationExit.
import { format } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** The workbench URL for `folder`, with the payload entries ([key, value] pairs). */
export function workbenchUrl(server, folder, payload) {
  const query = new URLSearchParams({ folder, payload: JSON.stringify(payload) });
  return `${server.origin}/?${query}`;
}

// The workbench forwards console calls: a printf-style format string and its arguments.
function formatLogArgs(args) {
  return Array.isArray(args) ? format(...args) : format(args);
}

/**
 * Opens a workbench page with `codeAutomationExit` / `codeAutomationLog` exposed before any of
 * its scripts run. Returns the page and a promise of the exit code the workbench reports.
 */
// The workbench's own chatter, and what fails only because this machine is offline (the
// extension gallery, telemetry): left out unless GL_VSCODE_VERBOSE is set.
const NOISE = [
  /^Resolving connection token/,
  /^Resolved connection token/,
  /^Creating a socket/,
  /^\[Service Worker\]/,
  /^Updating additional builtin extensions cache/,
  /^ChatSessionStore:/,
  /getaddrinfo ENOTFOUND/,
];

export async function openWorkbench(context, url, log) {
  const page = await context.newPage();
  let resolveExit;
  const exitCode = new Promise((resolve) => (resolveExit = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = formatLogArgs(args);
    if (!process.env.GL_VSCODE_VERBOSE && NOISE.some((re) => re.test(text))) return;
    log(`[${type}] ${text}`);
  });
  page.on('pageerror', (e) => log(`[page error] ${e.message}`));
  await page.goto(url);
  return { page, exitCode };
}

/** Rejects after `ms` with `what` in the message; clears itself when `promise` settles first. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * Runs the extension-host test module (`testsPath`, absolute, built by esbuild) against the
 * extension in `extensionPath`, in a workbench opened on `folder`. Resolves with the exit code.
 */
export async function runExtensionTests({ context, server, folder, extensionPath, testsPath, log, timeoutMs }) {
  const url = workbenchUrl(server, folder, [
    ['extensionDevelopmentPath', server.remoteUri(extensionPath)],
    ['extensionTestsPath', server.remoteUri(testsPath)],
    ['skipWelcome', 'true'],
  ]);
  const { page, exitCode } = await openWorkbench(context, url, log);
  try {
    return await withTimeout(exitCode, timeoutMs, 'extension-host tests');
  } finally {
    await page.close();
  }
}
