// The TypeScript server plugin: in a folder with nothing installed, a lesson gets the typings
// shipped with the extension (no diagnostics, `tf.*` typed); a folder with its own tfjs keeps
// it. First through a real language service built with the plugin's fallback, then through a
// real tsserver that loads the built plugin package as VS Code does.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { addShippedTypesFallback } from '../../src/tsPlugin/createPlugin';
import { findShippedTypes, type ShippedTypes } from '../../src/tsPlugin/shippedTypes';

const root = path.resolve(__dirname, '../../..');
const samples = path.join(root, 'samples');
const LESSON = path.join(samples, '01-what-is-a-neural-network/model.ts');
const shippedTfjs = path.join(root, 'node_modules/@tensorflow/');

/** What VS Code gives a file outside any tsconfig.json (its inferred project). */
const EDITOR_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  target: ts.ScriptTarget.ES2022,
  strictNullChecks: true,
  strictFunctionTypes: true,
  skipLibCheck: true,
};

function tempFolder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gl-tsplugin-'));
}

function shippedTypes(): ShippedTypes {
  const shipped = findShippedTypes(ts, __dirname);
  assert.ok(shipped, 'npm run build emits dist/types');
  return shipped;
}

/** A language service over `files`, resolving modules the way tsserver's projects do. */
function languageService(dir: string, files: string[], withPlugin: boolean): ts.LanguageService {
  const cache = ts.createModuleResolutionCache(dir, (f) => f, EDITOR_OPTIONS);
  const host: ts.LanguageServiceHost = {
    getScriptFileNames: () => files,
    getScriptVersion: () => '1',
    getScriptSnapshot: (f) => {
      const text = ts.sys.readFile(f);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => dir,
    getCompilationSettings: () => EDITOR_OPTIONS,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
    resolveModuleNameLiterals: (literals, containingFile, redirected, options, sourceFile) =>
      literals.map((l) =>
        ts.resolveModuleName(l.text, containingFile, options, ts.sys, cache, redirected, ts.getModeForUsageLocation(sourceFile, l, options)),
      ),
  };
  if (withPlugin) addShippedTypesFallback(ts, host, shippedTypes(), path.join(dir, '__workspace__.ts'));
  return ts.createLanguageService(host);
}

function errors(service: ts.LanguageService, file: string): string[] {
  return [...service.getSyntacticDiagnostics(file), ...service.getSemanticDiagnostics(file)].map(
    (d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
  );
}

/** The node `tf.layers.dense` in `file`'s source. */
function denseAccess(sf: ts.SourceFile): ts.Node {
  let found: ts.Node | undefined;
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && n.name.text === 'dense' && n.expression.getText(sf) === 'tf.layers') found ??= n.name;
    ts.forEachChild(n, visit);
  };
  visit(sf);
  assert.ok(found, 'the file calls tf.layers.dense');
  return found;
}

describe('TypeScript server plugin', () => {
  // Lesson 1 copied into a folder with nothing installed, with the plugin (built once: loading
  // tfjs's declarations takes seconds).
  let lesson: { dir: string; file: string; service: ts.LanguageService } | undefined;
  function lessonInEmptyFolder(): { dir: string; file: string; service: ts.LanguageService } {
    if (!lesson) {
      const dir = tempFolder();
      const file = path.join(dir, 'model.ts');
      fs.copyFileSync(LESSON, file);
      lesson = { dir, file, service: languageService(dir, [file], true) };
    }
    return lesson;
  }

  it('gives a lesson in a folder with nothing installed full types: no diagnostics, tf.layers.dense typed', () => {
    const { dir, file, service } = lessonInEmptyFolder();
    const without = languageService(dir, [file], false);
    assert.ok(
      errors(without, file).some((e) => e.startsWith("TS2307: Cannot find module 'gradient-lens'")),
      'without the plugin the folder cannot resolve gradient-lens (else this test proves nothing)',
    );

    assert.deepEqual(errors(service, file), []);
    const program = service.getProgram()!;
    const dense = denseAccess(program.getSourceFile(file)!);
    const type = program.getTypeChecker().getTypeAtLocation(dense);
    assert.equal(type.flags & ts.TypeFlags.Any, 0, 'tf.layers.dense is not any');
    assert.match(program.getTypeChecker().typeToString(type), /DenseLayerArgs\) => Dense/);
    assert.ok(
      program.getSourceFiles().some((sf) => sf.fileName.startsWith(path.join(shippedTfjs, 'tfjs-layers'))),
      "tfjs's declarations come from the extension's node_modules",
    );
  });

  it('finds no error in any lesson file, the lessons copied into a folder with nothing installed', () => {
    const dir = tempFolder();
    const files: string[] = [];
    for (const entry of fs.readdirSync(samples, { withFileTypes: true })) {
      // samples/data holds the script that builds the data subset, not a lesson.
      if (!entry.isDirectory() || entry.name === 'data') continue;
      fs.mkdirSync(path.join(dir, entry.name));
      for (const name of fs.readdirSync(path.join(samples, entry.name)).filter((f) => f.endsWith('.ts'))) {
        const file = path.join(dir, entry.name, name);
        fs.copyFileSync(path.join(samples, entry.name, name), file);
        files.push(file);
      }
    }
    assert.ok(files.length >= 13, 'every lesson has its model file');
    const service = languageService(dir, files, true);
    assert.deepEqual(
      files.flatMap((f) => errors(service, f).map((e) => `${path.relative(dir, f)}: ${e}`)),
      [],
    );
  });

  it("types a file that imports @tensorflow/tfjs-node with tfjs's API, the runner running it on its tfjs", () => {
    const dir = tempFolder();
    const file = path.join(dir, 'node.ts');
    fs.writeFileSync(file, "import * as tf from '@tensorflow/tfjs-node';\nexport const layer: tf.layers.Layer = tf.layers.dense({ units: 1 });\n");
    assert.deepEqual(errors(languageService(dir, [file], true), file), []);
  });

  it("is packaged where VS Code's TypeScript looks for it, with every declaration a lesson's types come from", function () {
    this.timeout(120_000);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { typescriptServerPlugins: { name: string }[] } };
    assert.deepEqual(
      manifest.contributes.typescriptServerPlugins.map((p) => p.name),
      ['gradient-lens-ts-plugin'],
    );
    // What `npm run package` puts in the .vsix (the same flags).
    const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
    const listing = execFileSync(process.execPath, [vsce, 'ls', '--follow-symlinks'], { cwd: root, encoding: 'utf8' });
    const packaged = new Set(listing.split('\n').map((l) => l.trim()));
    assert.ok(packaged.has('node_modules/gradient-lens-ts-plugin/package.json') && packaged.has('node_modules/gradient-lens-ts-plugin/index.js'), 'the plugin package');
    assert.ok(!packaged.has('dist/tsPlugin/index.js'), 'and only there');

    const { service } = lessonInEmptyFolder();
    const used = service
      .getProgram()!
      .getSourceFiles()
      .map((sf) => path.relative(root, sf.fileName))
      .filter((f) => !f.startsWith('..'));
    // The backends' declarations are left out on purpose (see .vscodeignore).
    const needed = used.filter((f) => !f.startsWith('node_modules/@tensorflow/tfjs-backend-'));
    assert.ok(needed.length > 400, `the lesson's types come from the extension (${needed.length} files)`);
    assert.deepEqual(
      needed.filter((f) => !packaged.has(f)),
      [],
    );
  });

  it("leaves a folder's own @tensorflow/tfjs in charge, for gradient-lens's declarations too", () => {
    const dir = tempFolder();
    const own = path.join(dir, 'node_modules/@tensorflow/tfjs');
    fs.mkdirSync(own, { recursive: true });
    fs.writeFileSync(path.join(own, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs', version: '0.0.1', types: 'index.d.ts' }));
    fs.writeFileSync(
      path.join(own, 'index.d.ts'),
      'export declare const ownMarker: "the workspace\'s own";\nexport declare class Tensor { private own: true }\n',
    );
    const file = path.join(dir, 'model.ts');
    fs.writeFileSync(
      file,
      [
        "import * as tf from '@tensorflow/tfjs';",
        "import type { Split } from 'gradient-lens';",
        'const marker: "the workspace\'s own" = tf.ownMarker;',
        'export const split = (xs: tf.Tensor): Split["xs"] => xs;',
        'export { marker };',
        '',
      ].join('\n'),
    );
    const service = languageService(dir, [file], true);
    assert.deepEqual(errors(service, file), [], "tf is the folder's own, and Split['xs'] is the same Tensor");
    const files = service.getProgram()!.getSourceFiles().map((sf) => sf.fileName);
    assert.ok(files.includes(path.join(own, 'index.d.ts')));
    assert.ok(!files.some((f) => f.startsWith(shippedTfjs)), `no shipped tfjs declaration is loaded: ${files.filter((f) => f.startsWith(shippedTfjs)).join(', ')}`);
  });

  it('works in a real tsserver that loads the built plugin package, as VS Code does', async function () {
    this.timeout(120_000);
    const dir = tempFolder();
    const file = path.join(dir, 'model.ts');
    fs.copyFileSync(LESSON, file);
    const server = new TsServer(['--globalPlugins', 'gradient-lens-ts-plugin', '--pluginProbeLocations', root]);
    try {
      await server.request('compilerOptionsForInferredProjects', {
        options: { module: 'preserve', moduleResolution: 'bundler', target: 'es2022', strictNullChecks: true, strictFunctionTypes: true },
      });
      await server.request('open', { file, projectRootPath: dir });
      const diagnostics = (await server.request('semanticDiagnosticsSync', { file })) as { text: string; code: number }[];
      assert.deepEqual(
        diagnostics.map((d) => `TS${d.code}: ${d.text}`),
        [],
      );
      const text = fs.readFileSync(file, 'utf8');
      const at = text.indexOf('tf.layers.dense(') + 'tf.layers.'.length;
      const line = text.slice(0, at).split('\n').length;
      const offset = at - text.lastIndexOf('\n', at - 1);
      const info = (await server.request('quickinfo', { file, line, offset })) as { displayString: string };
      assert.match(info.displayString, /function dense\(args: DenseLayerArgs\): Dense/);
    } finally {
      server.kill();
    }
  });
});

/** tsserver over its stdio protocol: one JSON request per line in, Content-Length framed out. */
class TsServer {
  private readonly child;
  private seq = 0;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, { resolve: (body: unknown) => void; reject: (e: Error) => void }>();

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [path.join(root, 'node_modules/typescript/lib/tsserver.js'), '--disableAutomaticTypingAcquisition', ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.once('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`tsserver exited (${code})`));
    });
  }

  request(command: string, args: unknown): Promise<unknown> {
    const seq = ++this.seq;
    this.child.stdin.write(`${JSON.stringify({ seq, type: 'request', command, arguments: args })}\n`);
    // `open` has no response; the next request's answer comes after it is processed.
    if (command === 'open') return Promise.resolve(undefined);
    return new Promise((resolve, reject) => this.pending.set(seq, { resolve, reject }));
  }

  kill(): void {
    this.child.kill();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const header = this.buffer.indexOf('\r\n\r\n');
      if (header < 0) return;
      const length = Number(/Content-Length: (\d+)/.exec(this.buffer.subarray(0, header).toString())?.[1]);
      if (this.buffer.length < header + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(header + 4, header + 4 + length).toString()) as {
        type: string;
        request_seq?: number;
        success?: boolean;
        message?: string;
        body?: unknown;
      };
      this.buffer = this.buffer.subarray(header + 4 + length);
      const p = message.type === 'response' && message.request_seq !== undefined ? this.pending.get(message.request_seq) : undefined;
      if (!p) continue;
      this.pending.delete(message.request_seq!);
      if (message.success) p.resolve(message.body);
      else p.reject(new Error(`tsserver: ${message.message}`));
    }
  }
}
