import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { AGENT_TOOLS } from '../../../src/core/agentTools';
import { LM_TOOL_NAMES, TASK_TYPE } from '../../../src/vscode/agentNames';
import { tmpdir } from 'os';

const esbuild = require('esbuild') as typeof import('esbuild');

const ROOT = path.join(__dirname, '..', '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const code = (file: string) => read(file).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/** The parts src/vscode/lazy.ts loads: `lazyPart<…>('agents.js', …)` → 'agents'. */
function lazyParts(): string[] {
  const names = [...code('src/vscode/lazy.ts').matchAll(/lazyPart<[^>]*>\('([a-z]+)\.js'/g)].map((m) => m[1]);
  const agents = code('src/vscode/agentIntegrations.ts').match(/lazyPart<[^>]*>\('([a-z]+)\.js'/);
  if (agents) names.push(agents[1]);
  return names;
}

const { extensionBuilds } = require(path.join(ROOT, 'esbuild.js')) as { extensionBuilds(): (import('esbuild').BuildOptions & { entryPoints: string[] })[] };

/** The source files with code in the bundle of `entry`, built with esbuild.js's own options (tree-shaken). */
async function inputsOf(entry: string): Promise<string[]> {
  const options = extensionBuilds().find((b) => b.entryPoints[0] === entry);
  assert.ok(options, `esbuild.js builds ${entry}`);
  const result = await esbuild.build({ ...options, write: false, metafile: true, absWorkingDir: ROOT });
  const [, output] = Object.entries(result.metafile!.outputs).find(([file]) => file.endsWith('.js'))!;
  return Object.entries(output.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([file]) => file);
}

/** Modules with state of their own: a lazy bundle holding a second copy of one would not share it. */
const STATEFUL = /^src\/(os\/|core\/(allocator|ledger|metrics|createAllocator|memoryStore)\.ts$|vscode\/(lazy|log|config)\.ts$)/;

describe('lazy parts of the extension (dist/agents.js, extras.js, discovery.js)', () => {
  const parts = lazyParts();

  it('finds the three parts lazy.ts and agentIntegrations.ts load', () => {
    assert.deepEqual([...parts].sort(), ['agents', 'discovery', 'extras']);
  });

  it('registers at activation the same tool names and task type as AGENT_TOOLS and package.json', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.deepEqual([...LM_TOOL_NAMES], AGENT_TOOLS.map((t) => t.name));
    assert.deepEqual([...LM_TOOL_NAMES].sort(), pkg.contributes.languageModelTools.map((t: { name: string }) => t.name).sort());
    assert.deepEqual(pkg.contributes.taskDefinitions.map((t: { type: string }) => t.type), [TASK_TYPE]);
  });

  for (const part of ['agents', 'discovery', 'extras']) {
    it(`${part}: built by esbuild.js to dist/${part}.js and shipped by .vscodeignore`, () => {
      assert.match(read('esbuild.js'), new RegExp(`entryPoints: \\['src/vscode/${part}\\.ts'\\], outfile: 'dist/${part}\\.js'`));
      assert.ok(read('.vscodeignore').split('\n').includes(`!dist/${part}.js`), `.vscodeignore ships dist/${part}.js`);
    });

    it(`${part}: holds no OS layer and no stateful module, and none of its modules is in dist/extension.js`, async function () {
      this.timeout(30_000);
      const [mine, main] = await Promise.all([inputsOf(`src/vscode/${part}.ts`), inputsOf('src/extension.ts')]);
      assert.deepEqual(mine.filter((f) => STATEFUL.test(f)), [], `dist/${part}.js imports stateful modules`);
      // Small shared helpers (errors, validation, types, the names registered at activation) may be in both; the
      // part's own modules must not. (core/projects.ts: normalizeProjectId is in both, discovery only in the part.)
      const shared = /^src\/(core\/(errors|validate|types|shellWords|projects)|vscode\/agentNames)\.ts$/;
      const own = mine.filter((f) => !shared.test(f));
      assert.ok(own.length > 0);
      assert.deepEqual(own.filter((f) => main.includes(f)), [], 'modules of the part bundled into dist/extension.js too');
    });
  }

  it('a part that cannot be loaded fails with one clear message: shown once, logged and thrown each time', async function () {
    this.timeout(30_000);
    // lazy.ts bundled with a recording stand-in for `vscode` (only window.showErrorMessage is used), into a
    // temporary folder that holds no part: its require fails as in a damaged install.
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'dev-ports-lazy-'));
    try {
      const outfile = path.join(dir, 'lazy.js');
      await esbuild.build({
        stdin: { contents: "export { lazyPart } from './src/vscode/lazy'; export { shown as __shown } from 'vscode';", resolveDir: ROOT, loader: 'ts' },
        outfile,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        logLevel: 'silent',
        plugins: [{ name: 'vscode-stand-in', setup: (b) => {
          b.onResolve({ filter: /^vscode$/ }, () => ({ path: 'vscode', namespace: 'stand-in' }));
          b.onLoad({ filter: /.*/, namespace: 'stand-in' }, () => ({ contents: 'exports.window = { showErrorMessage: (m) => { module.exports.shown.push(m); return Promise.resolve(undefined); } }; exports.shown = [];', loader: 'js' }));
        } }],
      });
      const lazy = require(outfile) as { lazyPart<T>(file: string, what: string, logger?: { error(m: string): void }): () => T; __shown: string[] };
      const logged: string[] = [];
      const part = lazy.lazyPart('agents.js', 'the agent tools', { error: (m) => logged.push(m) });
      const expected = /^Dev Ports could not load the agent tools \(.*agents\.js\): Cannot find module .*\. Reinstall the extension\.$/;
      assert.throws(() => part(), { message: expected });
      assert.throws(() => part(), { message: expected });
      assert.equal(lazy.__shown.length, 1, 'the error message is shown once');
      assert.match(lazy.__shown[0], expected);
      assert.equal(logged.length, 2, 'each failed load is logged');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
