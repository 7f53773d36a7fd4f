// The runner's start timing (GRADIENT_LENS_TIMING=1, for work on cold start): one log line
// after the first step, naming the stages of the start in the order it went through them, with
// times that only grow; without the variable, no such line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunnerClient, defaultRunnerPath } from '../../src/host/runnerClient';
import type { FromRunner } from '../../src/shared/protocol';

const root = path.resolve(__dirname, '../../..');
const tinyModel = path.join(root, 'test/unit/fixtures/tinyModel.ts');

async function traceMessages(timing: boolean): Promise<FromRunner[]> {
  const saved = process.env.GRADIENT_LENS_TIMING;
  // RunnerClient hands its own environment to the runner it spawns.
  if (timing) process.env.GRADIENT_LENS_TIMING = '1';
  else delete process.env.GRADIENT_LENS_TIMING;
  let runner: RunnerClient;
  try {
    runner = RunnerClient.spawn({ runnerPath: defaultRunnerPath(), backend: 'cpu' });
  } finally {
    if (saved === undefined) delete process.env.GRADIENT_LENS_TIMING;
    else process.env.GRADIENT_LENS_TIMING = saved;
  }
  const messages: FromRunner[] = [];
  runner.onMessage((m) => messages.push(m));
  await runner.start({ file: tinyModel, outDir: fs.mkdtempSync(path.join(os.tmpdir(), 'gl-timing-')) });
  await runner.exited;
  return messages;
}

const timingLines = (messages: FromRunner[]) => messages.filter((m): m is Extract<FromRunner, { type: 'log' }> => m.type === 'log' && m.text.startsWith('timing: '));

describe("the runner's start timing", () => {
  it('with GRADIENT_LENS_TIMING=1, tells once, after the first step, how long each stage of the start took', async () => {
    const messages = await traceMessages(true);
    const lines = timingLines(messages);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.ok(messages.indexOf(lines[0]) > messages.findIndex((m) => m.type === 'stepDone'), 'after the first step');
    const stages = lines[0].text
      .slice('timing: '.length)
      .split(', ')
      .map((part) => {
        const m = /^(.+) (\d+\.\d) \(\+(\d+\.\d)\)$/.exec(part);
        assert.ok(m, part);
        return { stage: m[1], at: Number(m[2]), since: Number(m[3]) };
      });
    const names = stages.map((s) => s.stage);
    const expected = ['runner code runs', 'loaded', 'hello', 'request start', 'bundled', 'model file ran', 'started', 'state running', 'stepDone'];
    const positions = expected.map((name) => names.indexOf(name));
    assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])), `in order: ${names.join(' | ')}`);
    for (let i = 1; i < stages.length; i++) {
      assert.ok(stages[i].at >= stages[i - 1].at, `${stages[i].stage} after ${stages[i - 1].stage}`);
      assert.ok(Math.abs(stages[i].at - stages[i - 1].at - stages[i].since) < 0.2, `${stages[i].stage}: its step is the difference`);
    }
  });

  it('without it, tells nothing', async () => {
    const messages = await traceMessages(false);
    assert.ok(messages.some((m) => m.type === 'stepDone'));
    assert.deepEqual(timingLines(messages), []);
  });
});
