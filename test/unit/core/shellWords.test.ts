import * as assert from 'assert';
import { joinShellWords, parseCommandLine, quoteShellWord, splitShellWords } from '../../../src/core/shellWords';

describe('shellWords', () => {
  it('splits plain words on any whitespace', () => {
    assert.deepStrictEqual(splitShellWords('  vite   --host\t0.0.0.0 '), ['vite', '--host', '0.0.0.0']);
  });

  it('keeps a single-quoted value with spaces as one word (NODE_OPTIONS)', () => {
    assert.deepStrictEqual(splitShellWords(`NODE_OPTIONS='--a --b' vite`), ['NODE_OPTIONS=--a --b', 'vite']);
  });

  it('unquotes double quotes and honours their backslash escapes only for $ ` " \\', () => {
    assert.deepStrictEqual(splitShellWords(`concurrently "vite --port 1" "node \\"api.js\\"" "a\\b"`), [
      'concurrently', 'vite --port 1', 'node "api.js"', 'a\\b',
    ]);
  });

  it('treats a backslash outside quotes as an escape', () => {
    assert.deepStrictEqual(splitShellWords('echo a\\ b'), ['echo', 'a b']);
  });

  it('joins adjacent quoted and unquoted parts into one word', () => {
    assert.deepStrictEqual(splitShellWords(`--name="my app"x`), ['--name=my appx']);
  });

  it('leaves $VARS and globs unexpanded', () => {
    assert.deepStrictEqual(splitShellWords('vite --port $PORT src/*.ts'), ['vite', '--port', '$PORT', 'src/*.ts']);
  });

  it('returns undefined for an unbalanced quote', () => {
    assert.strictEqual(splitShellWords(`vite "--host`), undefined);
    assert.strictEqual(parseCommandLine(`echo 'x`), undefined);
  });

  it('splits commands on && || ; | & and records the operator after each', () => {
    assert.deepStrictEqual(parseCommandLine('a && b || c; d | e & f'), [
      { argv: ['a'], next: '&&' },
      { argv: ['b'], next: '||' },
      { argv: ['c'], next: ';' },
      { argv: ['d'], next: '|' },
      { argv: ['e'], next: '&' },
      { argv: ['f'] },
    ]);
  });

  it('does not split on operators inside quotes, and flattens parentheses', () => {
    assert.deepStrictEqual(parseCommandLine(`(tsc -w &) && cross-env-shell "vite && echo hi"`), [
      { argv: ['tsc', '-w'], next: '&&' },
      { argv: ['cross-env-shell', 'vite && echo hi'] },
    ]);
  });

  it('drops comments', () => {
    assert.deepStrictEqual(splitShellWords('vite # the dev server'), ['vite']);
  });

  it('quotes only words that need it, so joined words split back to the same words', () => {
    assert.strictEqual(quoteShellWord('--port=3000'), '--port=3000');
    const words = ['NODE_OPTIONS=--a --b', "it's", '', 'x&y'];
    assert.deepStrictEqual(splitShellWords(joinShellWords(words)), words);
  });
});
