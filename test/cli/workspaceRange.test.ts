import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readWorkspacePortRange, stripJsonc } from '../../src/core/workspaceSettings';

describe('readWorkspacePortRange', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-ws-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function settings(dir: string, text: string): void {
    fs.mkdirSync(path.join(root, dir, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(root, dir, '.vscode', 'settings.json'), text);
  }

  it('reads the range of a JSONC settings file with comments and trailing commas', () => {
    settings('', '{\n  // ports\n  "devPorts.portRange.start": 43000, /* a */\n  "devPorts.portRange.end": 43999,\n}');
    fs.mkdirSync(path.join(root, 'apps', 'web'), { recursive: true });
    assert.deepStrictEqual(readWorkspacePortRange(path.join(root, 'apps', 'web')), { start: 43000, end: 43999 });
  });

  it('takes the nearest settings file that sets a range', () => {
    settings('', '{ "devPorts.portRange.start": 43000, "devPorts.portRange.end": 43999 }');
    settings('apps/web', '{ "devPorts.portRange": { "start": 44000, "end": 44099 } }');
    settings('apps/api', '{ "editor.tabSize": 2 }');
    assert.deepStrictEqual(readWorkspacePortRange(path.join(root, 'apps', 'web')), { start: 44000, end: 44099 });
    assert.deepStrictEqual(readWorkspacePortRange(path.join(root, 'apps', 'api')), { start: 43000, end: 43999 });
  });

  it('fills a missing end with the default and reports an inverted or mistyped range', () => {
    settings('a', '{ "devPorts.portRange.start": 3500 }');
    assert.deepStrictEqual(readWorkspacePortRange(path.join(root, 'a')), { start: 3500, end: 3999 });
    const problems: string[] = [];
    settings('b', '{ "devPorts.portRange.start": 43000 }');
    assert.strictEqual(readWorkspacePortRange(path.join(root, 'b'), (p) => problems.push(p)), undefined);
    settings('c', '{ "devPorts.portRange.start": "3000", "devPorts.portRange.end": 3999 }');
    assert.strictEqual(readWorkspacePortRange(path.join(root, 'c'), (p) => problems.push(p)), undefined);
    settings('d', '{ broken');
    readWorkspacePortRange(path.join(root, 'd'), (p) => problems.push(p));
    assert.match(problems[0], /43000-3999 .*inverted/);
    assert.match(problems[1], /must be integers/);
    assert.match(problems[2], /not valid JSON/);
  });

  it('keeps comment-like text and commas inside strings', () => {
    const text = '{ "a": "x // not a comment, }", "b": "/* nor this */", "c": [1, 2,], }';
    assert.deepStrictEqual(JSON.parse(stripJsonc(text)), { a: 'x // not a comment, }', b: '/* nor this */', c: [1, 2] });
  });

  it('is undefined when no settings file sets a range', () => {
    assert.strictEqual(readWorkspacePortRange(root), undefined);
  });
});
