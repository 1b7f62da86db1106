import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { quoteArg, quoteCommandLine, shellKindOf } from '../../../src/vscode/shellQuote';

/** Prints the arguments node received as JSON: what the shell really passed after parsing the quoted line. */
const PRINT_ARGV = 'process.stdout.write(JSON.stringify(process.argv.slice(1)))';

/** Argv as `shell` parses the quoted command line (the line is what the test checks; the shell is real). */
function argvThrough(shell: string, args: readonly string[]): string[] {
  const line = quoteCommandLine(process.execPath, ['-e', PRINT_ARGV, ...args], 'posix');
  return JSON.parse(execFileSync(shell, ['-c', line], { encoding: 'utf8', env: { ...process.env, HOME: '/home/expanded', X: 'expanded' } }));
}

const TRICKY = [
  'two words',
  "it's",
  'say "hi"',
  '$HOME and ${X}',
  '`echo expanded`',
  '$(echo expanded)',
  '',
  '*.js',
  '~',
  'a; echo injected && echo twice | cat > /dev/null',
  'line\nbreak',
  'back\\slash',
  'trailing\\',
  "\\'",
  '!!',
  '--port=3000',
  'café ✓',
];

describe('shellQuote: POSIX shells', () => {
  for (const shell of ['/bin/bash', '/bin/sh']) {
    const available = fs.existsSync(shell);
    (available ? it : it.skip)(`passes every tricky argument through ${shell} unchanged`, () => {
      assert.deepStrictEqual(argvThrough(shell, TRICKY), TRICKY);
    });
  }

  it('leaves plain words unquoted so the typed line stays readable', () => {
    assert.strictEqual(quoteCommandLine('npm', ['run', 'dev', '--', '--port', '3000'], 'posix'), 'npm run dev -- --port 3000');
  });

  it('quotes the empty string as an empty pair of quotes', () => {
    assert.strictEqual(quoteArg('', 'posix'), "''");
  });

  it('closes, escapes and reopens the quotes around a single quote', () => {
    assert.strictEqual(quoteArg("it's", 'posix'), "'it'\\''s'");
  });

  it('puts backslashes outside the quotes, where fish and POSIX shells agree on them', () => {
    assert.strictEqual(quoteArg('C:\\dir', 'posix'), "'C:'\\\\'dir'");
  });

  it('quotes a command word with = so the shell does not take it for an assignment', () => {
    assert.strictEqual(quoteCommandLine('A=1', ['x'], 'posix'), "'A=1' x");
    assert.strictEqual(quoteArg('A=1', 'posix'), 'A=1');
  });

  it('quotes a word starting with = that zsh would expand to a path', () => {
    assert.strictEqual(quoteArg('=node', 'posix'), "'=node'");
  });
});

describe('shellQuote: PowerShell', () => {
  it('single-quotes $, backticks and spaces, which PowerShell then leaves alone', () => {
    assert.strictEqual(quoteArg('$env:HOME', 'powershell'), "'$env:HOME'");
    assert.strictEqual(quoteArg('a`b c', 'powershell'), "'a`b c'");
  });

  it('doubles a single quote inside the quotes', () => {
    assert.strictEqual(quoteArg("it's", 'powershell'), "'it''s'");
  });

  it('doubles typographic single quotes, which also end a PowerShell string', () => {
    assert.strictEqual(quoteArg('it\u2019s', 'powershell'), "'it\u2019\u2019s'");
    assert.strictEqual(quoteArg('\u2018x\u201B', 'powershell'), "'\u2018\u2018x\u201B\u201B'");
  });

  it('quotes the empty string', () => {
    assert.strictEqual(quoteArg('', 'powershell'), "''");
  });

  it("quotes npm's -- so the npm.ps1 shim does not swallow it", () => {
    assert.strictEqual(quoteCommandLine('npm', ['run', 'dev', '--', '--port', '3000'], 'powershell'), "npm run dev '--' --port 3000");
  });

  it('quotes a leading @ (splatting) and a comma (array)', () => {
    assert.strictEqual(quoteArg('@acme/web', 'powershell'), "'@acme/web'");
    assert.strictEqual(quoteArg('a,b', 'powershell'), "'a,b'");
  });

  it('runs a quoted executable path with the call operator', () => {
    assert.strictEqual(
      quoteCommandLine('C:\\Program Files\\nodejs\\npm.cmd', ['run', 'dev'], 'powershell'),
      "& 'C:\\Program Files\\nodejs\\npm.cmd' run dev",
    );
  });

  it('adds no call operator when the executable needs no quotes', () => {
    assert.strictEqual(quoteCommandLine('pnpm', ['run', 'dev'], 'powershell'), 'pnpm run dev');
  });
});

describe('shellQuote: cmd.exe', () => {
  it('double-quotes spaces and the characters cmd treats as operators', () => {
    assert.strictEqual(quoteArg('two words', 'cmd'), '"two words"');
    assert.strictEqual(quoteArg('a&b|c<d>e^f', 'cmd'), '"a&b|c<d>e^f"');
  });

  it('doubles a double quote inside the quotes', () => {
    assert.strictEqual(quoteArg('say "hi"', 'cmd'), '"say ""hi"""');
  });

  it('quotes the empty string', () => {
    assert.strictEqual(quoteArg('', 'cmd'), '""');
  });

  it('leaves a plain command line as it is', () => {
    assert.strictEqual(quoteCommandLine('npm', ['run', 'dev', '--', '--port', '3000'], 'cmd'), 'npm run dev -- --port 3000');
  });
});

describe('shellKindOf', () => {
  it('recognises PowerShell, Windows PowerShell and pwsh previews', () => {
    assert.strictEqual(shellKindOf('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'), 'powershell');
    assert.strictEqual(shellKindOf('C:\\Program Files\\PowerShell\\7\\pwsh.exe'), 'powershell');
    assert.strictEqual(shellKindOf('/usr/local/bin/pwsh-preview'), 'powershell');
  });

  it('recognises cmd.exe whatever its case', () => {
    assert.strictEqual(shellKindOf('C:\\WINDOWS\\system32\\CMD.EXE'), 'cmd');
  });

  it('treats bash, zsh, Git Bash and an unknown shell as POSIX', () => {
    for (const shell of ['/bin/bash', '/bin/zsh', 'C:\\Program Files\\Git\\bin\\bash.exe', undefined, '']) {
      assert.strictEqual(shellKindOf(shell), 'posix', String(shell));
    }
  });
});
