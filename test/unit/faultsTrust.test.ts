// Faults from a trace made elsewhere: a layer location pointing outside the workspace (or through
// a symlink out of it, or at nothing) is refused, and hostile text is inert in Markdown.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codeSpan, escapeMarkdown, locationRefusal } from '../../src/extension/traceTrust';

describe('faults: a trace from elsewhere', () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-trust-ws-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-trust-out-'));
  const model = path.join(workspace, 'model.ts');
  const evil = path.join(outside, 'evil.ts');
  fs.writeFileSync(model, 'export {};\n');
  fs.writeFileSync(evil, 'defineTraining(\n');
  fs.mkdirSync(path.join(workspace, 'sub'));
  fs.symlinkSync(evil, path.join(workspace, 'sub', 'link.ts'));

  it('a location inside an open workspace folder that exists opens', () => {
    assert.equal(locationRefusal(model, [workspace]), undefined);
  });

  it('a location outside every workspace folder, through .. or a symlink, or with no workspace, is refused', () => {
    assert.equal(locationRefusal(evil, [workspace]), `${evil} is outside the open workspace folders`);
    assert.match(locationRefusal(path.join(workspace, '..', path.basename(outside), 'evil.ts'), [workspace]) ?? '', /outside the open workspace folders/);
    assert.match(locationRefusal(path.join(workspace, 'sub', 'link.ts'), [workspace]) ?? '', /outside the open workspace folders/);
    assert.match(locationRefusal(model, []) ?? '', /outside the open workspace folders/);
  });

  it('a location that no longer exists, is a folder, or is relative is refused with the reason', () => {
    assert.equal(locationRefusal(path.join(workspace, 'gone.ts'), [workspace]), `${path.join(workspace, 'gone.ts')} does not exist (any more)`);
    assert.equal(locationRefusal(path.join(workspace, 'sub'), [workspace]), `${path.join(workspace, 'sub')} is not a file`);
    assert.equal(locationRefusal('model.ts', [workspace]), 'model.ts is not an absolute path');
  });

  it('hostile names are inert: no link, image, HTML, command or icon survives escaping', () => {
    const hostile = '[click](command:workbench.action.terminal.new) ![x](https://evil/x.png) <img src=x onerror=alert(1)> $(alert) **bold**\n# heading';
    const escaped = escapeMarkdown(hostile);
    assert.doesNotMatch(escaped, /(^|[^\\])[[\]()<>*#$]/, escaped);
    assert.ok(!escaped.includes('\n'));
    // Unescaping gives back the text: nothing is lost, only made literal.
    assert.equal(escaped.replace(/\\(.)/g, '$1'), hostile.replace(/\n/g, ' '));
  });

  it('a code span holds any backticks without closing early', () => {
    assert.equal(codeSpan('dense_1'), '`dense_1`');
    assert.equal(codeSpan('a`b'), '``a`b``');
    assert.equal(codeSpan('`x`'), '`` `x` ``');
    assert.equal(codeSpan('x\ny'), '`x y`');
  });
});
