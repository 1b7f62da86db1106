import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
/** Layers that must run without VS Code: the library and the CLI load them in plain Node. */
const LAYERS = ['src/core', 'src/os', 'src/cli'];

/** Every way a TypeScript/JavaScript file can pull in a module named `vscode`. */
export function importsVscode(source: string): boolean {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [
    /\bfrom\s*['"]vscode['"]/,
    /\bimport\s*['"]vscode['"]/,
    /\brequire\s*\(\s*['"]vscode['"]\s*\)/,
    /\bimport\s*\(\s*['"]vscode['"]\s*\)/,
  ].some((re) => re.test(withoutComments));
}

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(d.name) ? [full] : [];
  });
}

describe('layers', () => {
  it('recognises every form of a vscode import', () => {
    for (const line of [
      "import * as vscode from 'vscode';",
      'import { window } from "vscode";',
      "import type { Uri } from 'vscode';",
      "export { Disposable } from 'vscode';",
      "import 'vscode';",
      "const vscode = require('vscode');",
      "import vscode = require('vscode');",
      "const v = await import('vscode');",
    ]) {
      assert.strictEqual(importsVscode(line), true, line);
    }
    for (const line of ["import * as path from 'path';", "// import * as vscode from 'vscode';", "const s = 'vscode-test';", "require('vscode-uri')"]) {
      assert.strictEqual(importsVscode(line), false, line);
    }
  });

  for (const layer of LAYERS) {
    it(`keeps vscode out of ${layer}`, () => {
      const offenders = sourceFiles(path.join(ROOT, layer)).filter((f) => importsVscode(fs.readFileSync(f, 'utf8')));
      assert.deepStrictEqual(offenders.map((f) => path.relative(ROOT, f)), []);
    });
  }

  it('finds the sources it guards', () => {
    assert.ok(sourceFiles(path.join(ROOT, 'src/core')).length > 0);
    assert.ok(sourceFiles(path.join(ROOT, 'src/os')).length > 0);
  });
});
