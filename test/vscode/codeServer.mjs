// Starts the offline VS Code (code-server 4.100.3 from test/vscode/node_modules) on 127.0.0.1,
// in its own process group with HOME, XDG and TMPDIR inside a temp folder, and stops it by
// killing the whole group: extension hosts and the runners they fork otherwise linger.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where setup.sh installs code-server. */
export function codeServerEntry(testDir) {
  return join(testDir, 'node_modules/code-server/out/node/entry.js');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** True while any process of the group `pgid` is alive. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return predicate();
}

/**
 * Starts code-server. `workDir` is an empty temp folder it may write to; `settings` go into the
 * user's settings.json; `env` is added to the server's (and so the extension host's) environment;
 * `install` lists .vsix files to install first; `workspaceTrust` keeps VS Code's workspace trust on
 * (a fresh user-data folder trusts nothing).
 * Resolves once the server listens.
 */
export async function startCodeServer({ testDir, workDir, settings, env = {}, install = [], workspaceTrust = false, log = () => {}, timeoutMs = 30_000 }) {
  const entry = codeServerEntry(testDir);
  if (!existsSync(entry)) {
    throw new Error(`code-server is not installed: run \`bash test/vscode/setup.sh\` (missing ${entry})`);
  }
  const home = join(workDir, 'home');
  const userData = join(workDir, 'user-data');
  const extensions = join(workDir, 'extensions');
  const tmp = join(workDir, 'tmp');
  for (const d of [home, join(userData, 'User'), extensions, tmp]) mkdirSync(d, { recursive: true });
  // Without these the welcome page steals the command palette's focus.
  writeFileSync(
    join(userData, 'User/settings.json'),
    JSON.stringify({ 'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, ...settings }, null, 2),
  );
  const env0 = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: tmp,
    ...env,
  };
  // Installs extensions (a .vsix path each) into this server's extensions folder first.
  for (const vsix of install) {
    const result = spawnSync(process.execPath, [entry, '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix, '--force'], {
      env: env0,
      encoding: 'utf8',
      timeout: 120_000,
    });
    log(`[code-server] ${result.stdout}${result.stderr}`.trim());
    if (result.status !== 0) throw new Error(`installing ${vsix} failed (exit ${result.status}): ${result.stderr || result.stdout}`);
  }
  const port = await freePort();
  const config = join(workDir, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  const args = [
    entry,
    '--config', config,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    // Trust is off (every folder trusted) unless a test needs an untrusted workspace.
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--ignore-last-opened',
    '--user-data-dir', userData,
    '--extensions-dir', extensions,
  ];
  const child = spawn(process.execPath, args, {
    detached: true, // its own process group, killed as one
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env0,
  });
  const pgid = child.pid;
  let exited = false;
  child.once('exit', () => (exited = true));

  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk) => {
      const text = chunk.toString();
      for (const line of text.split('\n')) if (line.trim()) log(`[code-server] ${line}`);
      if (text.includes('HTTP server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited before listening (code ${code}, signal ${signal})`));
    });
  });

  async function stop() {
    if (!groupAlive(pgid)) return;
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    if (!(await waitUntil(() => !groupAlive(pgid), 3000))) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await waitUntil(() => !groupAlive(pgid), 2000);
    }
  }

  try {
    await listening;
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    /** The authority the workbench uses for files on the server. */
    remoteUri: (absPath) => `vscode-remote://127.0.0.1:${port}${absPath}`,
    pgid,
    get exited() {
      return exited;
    },
    stop,
  };
}
