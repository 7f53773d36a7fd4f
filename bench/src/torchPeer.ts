// The Node side of bench/torch_peer.py: a long-lived Debian python3 + PyTorch process that
// times training steps on request, so its rounds interleave with the tfjs ones in the same run.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ROOT } from './common';

export const TORCH_PYTHON = process.env.BENCH_TORCH_PYTHON ?? '/usr/bin/python3';

export interface TorchInfo {
  torch: string;
  threads: number;
  blas: string[];
  omp_wait_policy: string;
}

export class TorchPeer {
  private readonly replies: ((line: string) => void)[] = [];
  private exitReason: string | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => this.replies.shift()?.(line));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('exit', (code, signal) => {
      this.exitReason = `python exited (${signal ?? code}): ${stderr.trim().split('\n').pop() ?? ''}`;
      for (const r of this.replies.splice(0)) r(JSON.stringify({ error: this.exitReason }));
    });
  }

  /** Starts the peer, or says why it cannot run here. */
  static async start(): Promise<{ peer?: TorchPeer; info?: TorchInfo; reason?: string }> {
    if (!fs.existsSync(TORCH_PYTHON)) return { reason: `${TORCH_PYTHON} not found (Debian python3 with python3-torch is needed)` };
    const child = spawn(TORCH_PYTHON, [path.join(ROOT, 'bench/torch_peer.py')], {
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '2', BENCH_TORCH_THREADS: '2' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const peer = new TorchPeer(child);
    const info = (await peer.request({ cmd: 'info' }, 120_000)) as unknown as TorchInfo & { error?: string };
    if (info.error) {
      peer.close();
      return { reason: info.error.includes('import torch') ? `python3-torch is not installed (${info.error})` : info.error };
    }
    return { peer, info };
  }

  request(body: Record<string, unknown>, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    if (this.exitReason) return Promise.resolve({ error: this.exitReason });
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ error: `no reply within ${timeoutMs} ms` }), timeoutMs);
      this.replies.push((line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          resolve({ error: `bad reply: ${line.slice(0, 200)}` });
        }
      });
      this.child.stdin.write(`${JSON.stringify(body)}\n`);
    });
  }

  close(): void {
    if (this.child.exitCode === null) {
      this.child.stdin.end();
      this.child.kill('SIGTERM');
    }
  }
}
