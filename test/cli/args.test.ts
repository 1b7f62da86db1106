import * as assert from 'assert';
import { parseArgs, parsePort, parseRange, UsageError } from '../../src/cli/args';

/** Asserts that parsing throws a UsageError whose message is one sentence matching `pattern`. */
function assertUsage(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseArgs(argv),
    (e: unknown) => {
      assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'the message is one line');
      assert.match(e.message, /\.$/, 'the message ends as a sentence');
      return true;
    },
  );
}

describe('cli args: ports and ranges', () => {
  it('accepts the lowest and highest ports', () => {
    assert.strictEqual(parsePort('1'), 1);
    assert.strictEqual(parsePort('65535'), 65535);
  });

  it('rejects 0, 65536, negatives, decimals, hex, exponents, blanks and words', () => {
    for (const bad of ['0', '65536', '70000', '-1', '3000.5', '3000.0', '0x10', '3e3', '', ' 3000', 'abc', '1234567']) {
      assert.throws(() => parsePort(bad), UsageError, bad);
    }
  });

  it('names the bad value in the port message', () => {
    assert.throws(() => parsePort('abc'), /Port must be an integer from 1 to 65535, got "abc"\./);
  });

  it('parses a range with both ends included', () => {
    assert.deepStrictEqual(parseRange('4000-4099'), { start: 4000, end: 4099 });
    assert.deepStrictEqual(parseRange('5000-5000'), { start: 5000, end: 5000 });
  });

  it('rejects an inverted range', () => {
    assert.throws(() => parseRange('4000-3000'), /The port range 4000-3000 is inverted/);
  });

  it('rejects malformed ranges', () => {
    for (const bad of ['3000', '3000-', '-3000', '3000_4000', 'a-b', '3000-4000-5000', '0-10', '3000-70000']) {
      assert.throws(() => parseRange(bad), UsageError, bad);
    }
  });
});

describe('cli args: commands', () => {
  it('shows the overview when no argument is given', () => {
    assert.deepStrictEqual(parseArgs([]), { kind: 'help' });
  });

  it('calls a negative port a bad port, not an unknown flag', () => {
    assert.throws(() => parseArgs(['check', '-1']), /Port must be an integer from 1 to 65535, got "-1"/);
  });

  it('reads `help` and `help <command>` as --help', () => {
    assert.deepStrictEqual(parseArgs(['help']), { kind: 'help', command: undefined });
    assert.deepStrictEqual(parseArgs(['help', 'free']), { kind: 'help', command: 'free' });
    assert.throws(() => parseArgs(['help', 'launch']), /Unknown command "launch"/);
  });

  it('parses check with --json', () => {
    assert.deepStrictEqual(parseArgs(['check', '3000', '--json']), {
      kind: 'run',
      command: 'check',
      port: 3000,
      json: true,
      verbose: false,
    });
  });

  it('accepts global flags before the command', () => {
    const parsed = parseArgs(['--json', 'list']);
    assert.deepStrictEqual(parsed, { kind: 'run', command: 'list', json: true, verbose: false });
  });

  it('parses free with --yes, -y and --timeout in both spellings', () => {
    assert.deepStrictEqual(parseArgs(['free', '3000', '--yes', '--timeout', '1500']), {
      kind: 'run',
      command: 'free',
      port: 3000,
      yes: true,
      timeoutMs: 1500,
      json: false,
      verbose: false,
    });
    const short = parseArgs(['free', '--timeout=0', '-y', '3000']);
    assert.ok(short.kind === 'run' && short.command === 'free' && short.yes && short.timeoutMs === 0);
  });

  it('leaves free unconfirmed without --yes', () => {
    const parsed = parseArgs(['free', '3000']);
    assert.ok(parsed.kind === 'run' && parsed.command === 'free');
    assert.strictEqual(parsed.yes, false);
    assert.strictEqual(parsed.timeoutMs, undefined);
  });

  it('defaults find to the range 3000-3999', () => {
    const parsed = parseArgs(['find']);
    assert.ok(parsed.kind === 'run' && parsed.command === 'find');
    assert.deepStrictEqual(parsed.range, { start: 3000, end: 3999 });
  });

  it('parses reserve with --port and --range', () => {
    assert.deepStrictEqual(parseArgs(['reserve', 'web', '--port', '3100', '--range=3100-3199']), {
      kind: 'run',
      command: 'reserve',
      project: 'web',
      port: 3100,
      range: { start: 3100, end: 3199 },
      json: false,
      verbose: false,
    });
  });

  it('takes a project starting with a dash after --', () => {
    const parsed = parseArgs(['release', '--', '-odd-folder']);
    assert.ok(parsed.kind === 'run' && parsed.command === 'release');
    assert.strictEqual(parsed.project, '-odd-folder');
  });

  it('defaults cleanup to 5 minutes and accepts fractions and zero', () => {
    const byDefault = parseArgs(['cleanup']);
    assert.ok(byDefault.kind === 'run' && byDefault.command === 'cleanup' && byDefault.olderThanMinutes === 5);
    const zero = parseArgs(['cleanup', '--older-than', '0']);
    assert.ok(zero.kind === 'run' && zero.command === 'cleanup' && zero.olderThanMinutes === 0);
    const half = parseArgs(['cleanup', '--older-than=0.5']);
    assert.ok(half.kind === 'run' && half.command === 'cleanup' && half.olderThanMinutes === 0.5);
  });

  it('answers --help for the root and for a command even when its arguments are missing', () => {
    assert.deepStrictEqual(parseArgs(['--help']), { kind: 'help', command: undefined });
    assert.deepStrictEqual(parseArgs(['check', '--help']), { kind: 'help', command: 'check' });
    assert.deepStrictEqual(parseArgs(['reserve', '-h']), { kind: 'help', command: 'reserve' });
  });

  it('answers --version for the root and for a command', () => {
    assert.deepStrictEqual(parseArgs(['--version']), { kind: 'version' });
    assert.deepStrictEqual(parseArgs(['free', '3000', '-v']), { kind: 'version' });
  });
});

describe('cli args: bad input', () => {
  it('rejects an unknown command', () => assertUsage(['launch'], /Unknown command "launch"/));
  it('rejects an unknown command even with --help', () => assertUsage(['launch', '--help'], /Unknown command/));
  it('rejects an unknown flag before a command', () => assertUsage(['--bogus'], /Unknown flag --bogus/));
  it('rejects an unknown flag of a command', () => assertUsage(['check', '3000', '--yes'], /Unknown flag --yes for "dev-ports check"/));
  it('rejects a missing port', () => assertUsage(['check'], /"dev-ports check" needs <port>/));
  it('rejects a missing project', () => assertUsage(['reserve'], /needs <project>/));
  it('rejects port 0', () => assertUsage(['check', '0'], /Port must be an integer from 1 to 65535, got "0"/));
  it('rejects port 70000', () => assertUsage(['check', '70000'], /got "70000"/));
  it('rejects a port that is not a number', () => assertUsage(['free', 'abc', '--yes'], /got "abc"/));
  it('rejects an inverted --range', () => assertUsage(['find', '--range', '4000-3000'], /inverted/));
  it('rejects a --range without its value', () => assertUsage(['find', '--range'], /--range needs a value/));
  it('rejects a flag value that is another flag', () => assertUsage(['reserve', 'web', '--port', '--json'], /--port needs a value/));
  it('rejects a bad --port of reserve', () => assertUsage(['reserve', 'web', '--port', '99999'], /--port must be an integer/));
  it('rejects a negative --timeout', () => assertUsage(['free', '3000', '--timeout', '-5'], /--timeout must be a whole number of milliseconds, zero or more, got "-5"/));
  it('rejects a --timeout that is not whole', () => assertUsage(['free', '3000', '--timeout', '1.5'], /--timeout must be a whole number/));
  it('rejects --older-than that is not a number', () => assertUsage(['cleanup', '--older-than', 'soon'], /--older-than must be a number/));
  it('rejects an extra argument', () => assertUsage(['check', '3000', '3001'], /Unexpected argument "3001"/));
  it('rejects a value on a boolean flag', () => assertUsage(['list', '--json=yes'], /--json takes no value/));
  it('rejects a flag given twice', () => assertUsage(['find', '--range', '1-2', '--range', '3-4'], /more than once/));
  it('rejects an empty project', () => assertUsage(['reserve', ''], /empty string/));
});
