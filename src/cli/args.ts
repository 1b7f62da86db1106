/**
 * Pure argument parser of the `dev-ports` CLI: no I/O, no process access. It turns argv into a typed request or
 * throws a `UsageError` whose message is one sentence (the CLI prints it and exits with code 2).
 */

export type CommandName = 'list' | 'check' | 'free' | 'find' | 'reserve' | 'release' | 'allocations' | 'cleanup';

export const COMMAND_NAMES: readonly CommandName[] = [
  'list',
  'check',
  'free',
  'find',
  'reserve',
  'release',
  'allocations',
  'cleanup',
];

/** Commands that parse their own arguments (src/cli/port.ts, run.ts, mcp.ts): `run` passes what follows `--` on. */
export const EXTRA_COMMAND_NAMES = ['port', 'run', 'mcp'] as const;
export type ExtraCommandName = (typeof EXTRA_COMMAND_NAMES)[number];

function isExtraCommand(value: string): value is ExtraCommandName {
  return (EXTRA_COMMAND_NAMES as readonly string[]).includes(value);
}

const ALL_COMMAND_NAMES: readonly string[] = [...COMMAND_NAMES, ...EXTRA_COMMAND_NAMES];

/** The range `find` and `reserve` use when none is given: the contract's `devPorts.portRange` defaults. */
export const DEFAULT_RANGE = { start: 3000, end: 3999 } as const;

/** The contract's `devPorts.staleAfterMinutes` default. */
export const DEFAULT_OLDER_THAN_MINUTES = 5;

interface Common {
  json: boolean;
  verbose: boolean;
}

export interface PortRangeArg {
  start: number;
  end: number;
}

export type CommandRequest =
  | ({ command: 'list' } & Common)
  | ({ command: 'check'; port: number } & Common)
  | ({ command: 'free'; port: number; yes: boolean; timeoutMs?: number } & Common)
  | ({ command: 'find'; range: PortRangeArg } & Common)
  | ({ command: 'reserve'; project: string; port?: number; range?: PortRangeArg } & Common)
  | ({ command: 'release'; project: string } & Common)
  | ({ command: 'allocations' } & Common)
  | ({ command: 'cleanup'; olderThanMinutes: number } & Common);

export type ParsedArgs =
  | { kind: 'help'; command?: CommandName | ExtraCommandName }
  | { kind: 'version' }
  | { kind: 'extra'; command: ExtraCommandName; args: string[] }
  | ({ kind: 'run' } & CommandRequest);

/** Bad command-line input: `message` is one sentence meant for stderr; the CLI exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type FlagType = 'boolean' | 'port' | 'range' | 'milliseconds' | 'minutes';

interface CommandSpec {
  positionals: readonly { name: string; label: string }[];
  flags: Readonly<Record<string, FlagType>>;
}

const COMMON_FLAGS: Readonly<Record<string, FlagType>> = { json: 'boolean', verbose: 'boolean' };

export const COMMAND_SPECS: Readonly<Record<CommandName, CommandSpec>> = {
  list: { positionals: [], flags: {} },
  check: { positionals: [{ name: 'port', label: '<port>' }], flags: {} },
  free: { positionals: [{ name: 'port', label: '<port>' }], flags: { yes: 'boolean', timeout: 'milliseconds' } },
  find: { positionals: [], flags: { range: 'range' } },
  reserve: { positionals: [{ name: 'project', label: '<project>' }], flags: { port: 'port', range: 'range' } },
  release: { positionals: [{ name: 'project', label: '<project>' }], flags: {} },
  allocations: { positionals: [], flags: {} },
  cleanup: { positionals: [], flags: { 'older-than': 'minutes' } },
};

const SHORT_FLAGS: Readonly<Record<string, string>> = { h: 'help', v: 'version', V: 'version', y: 'yes' };

function isCommandName(value: string): value is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(value);
}

/** `"abc"` quoted, so an empty or space-only value is still visible in the sentence. */
function quote(value: string): string {
  return JSON.stringify(value);
}

/**
 * Parses a TCP port written on the command line: decimal digits only, 1 to 65535. Leading zeros are ignored,
 * however many (`042000` and `0042000` are both 42000): the value counts, not how it is written.
 *
 * @example
 * parsePort('3000'); // 3000
 * parsePort('0042000'); // 42000
 * parsePort('70000'); // throws UsageError: Port must be an integer from 1 to 65535, got "70000".
 */
export function parsePort(text: string, what = 'Port'): number {
  // Number('') is 0, Number('0x10') is 16 and Number('3e3') is 3000: only plain digits are a port.
  const digits = /^0*(\d{1,5})$/.exec(text);
  const value = digits ? Number(digits[1]) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UsageError(`${what} must be an integer from 1 to 65535, got ${quote(text)}.`);
  }
  return value;
}

/**
 * Parses a port range written `<start>-<end>` (both ends included, start not above end).
 *
 * @example
 * parseRange('3000-3999'); // { start: 3000, end: 3999 }
 * parseRange('4000-3000'); // throws UsageError: The port range 4000-3000 is inverted: ...
 */
export function parseRange(text: string): PortRangeArg {
  const match = /^(\d+)-(\d+)$/.exec(text);
  if (!match) {
    throw new UsageError(`A port range must be written <start>-<end>, such as 3000-3999, got ${quote(text)}.`);
  }
  const start = parsePort(match[1], 'The start of the port range');
  const end = parsePort(match[2], 'The end of the port range');
  if (start > end) {
    throw new UsageError(`The port range ${start}-${end} is inverted: its start must not be above its end.`);
  }
  return { start, end };
}

function parseNonNegative(text: string, flag: string, unit: string, integer: boolean): number {
  const pattern = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const value = pattern.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) {
    const kind = integer ? 'a whole number' : 'a number';
    throw new UsageError(`--${flag} must be ${kind} of ${unit}, zero or more, got ${quote(text)}.`);
  }
  return value;
}

function convert(type: Exclude<FlagType, 'boolean'>, flag: string, text: string): number | PortRangeArg {
  switch (type) {
    case 'port':
      return parsePort(text, `--${flag}`);
    case 'range':
      return parseRange(text);
    case 'milliseconds':
      return parseNonNegative(text, flag, 'milliseconds', true);
    case 'minutes':
      return parseNonNegative(text, flag, 'minutes', false);
  }
}

function where(command: CommandName | undefined): string {
  return command ? `"dev-ports ${command}"` : '"dev-ports"';
}

function helpHint(command: CommandName | undefined): string {
  return command ? `see dev-ports ${command} --help` : 'see dev-ports --help';
}

/**
 * Parses the arguments after `node cli.js`. `--help`/`-h` and `--version`/`-v` win over everything else, so
 * `dev-ports check --help` shows help even without a port. Flags take their value as `--flag value` or
 * `--flag=value`; `--` ends the flags (a project folder may start with a dash).
 *
 * @example
 * parseArgs(['check', '3000', '--json']); // { kind: 'run', command: 'check', port: 3000, json: true, verbose: false }
 * parseArgs(['reserve', 'web', '--range', '4000-4099']); // { kind: 'run', command: 'reserve', project: 'web', range: {...}, ... }
 * parseArgs(['check', '0']); // throws UsageError
 */
export function parseArgs(input: readonly string[]): ParsedArgs {
  const endOfFlags = input.indexOf('--');
  const flagZone = endOfFlags === -1 ? input : input.slice(0, endOfFlags);
  const commandIndex = flagZone.findIndex((a) => !a.startsWith('-') || a === '-');
  const commandWord = commandIndex === -1 ? undefined : flagZone[commandIndex];
  // Global flags (--json, --verbose) may also come before the command, as in `dev-ports --json list`.
  const leading = commandIndex === -1 ? flagZone : flagZone.slice(0, commandIndex);
  const wantsHelp = flagZone.some((a) => a === '--help' || a === '-h');
  const wantsVersion = flagZone.some((a) => a === '--version' || a === '-v' || a === '-V');

  if (commandWord !== undefined && isExtraCommand(commandWord)) {
    if (wantsHelp) return { kind: 'help', command: commandWord };
    return { kind: 'extra', command: commandWord, args: [...leading, ...input.slice(commandIndex + 1)] };
  }
  if (wantsHelp || wantsVersion) {
    if (commandWord !== undefined && !isCommandName(commandWord)) throw unknownCommand(commandWord);
    if (wantsHelp) return { kind: 'help', command: commandWord as CommandName | undefined };
    return { kind: 'version' };
  }
  for (const arg of leading) {
    const name = arg.split('=')[0];
    if (name.startsWith('--') && COMMON_FLAGS[name.slice(2)] === 'boolean' && !arg.includes('=')) continue;
    throw new UsageError(`Unknown flag ${name} (${helpHint(undefined)}).`);
  }
  // `dev-ports help [command]`, as git and npm have it.
  if (commandWord === 'help') {
    const rest = input.slice(commandIndex + 1).filter((a) => a !== '--');
    if (rest.length > 1) throw new UsageError(`help takes at most one command, got ${rest.length} (${helpHint(undefined)}).`);
    if (rest[0] !== undefined && !isCommandName(rest[0]) && !isExtraCommand(rest[0])) throw unknownCommand(rest[0]);
    return { kind: 'help', command: rest[0] as CommandName | ExtraCommandName | undefined };
  }
  if (commandWord === undefined) {
    if (input.length === 0) return { kind: 'help' };
    throw new UsageError(`A command is missing: use one of ${ALL_COMMAND_NAMES.join(', ')} (${helpHint(undefined)}).`);
  }
  if (!isCommandName(commandWord)) throw unknownCommand(commandWord);
  const argv = [commandWord, ...leading, ...input.slice(commandIndex + 1)];
  const command: CommandName = commandWord;
  const spec = COMMAND_SPECS[command];
  const flagTypes: Record<string, FlagType> = { ...COMMON_FLAGS, ...spec.flags };

  const positionals: string[] = [];
  const values: Record<string, boolean | number | PortRangeArg> = {};
  let flagsEnded = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    // A negative number (`check -1`) is a bad port, not a flag: let the port check name it.
    if (flagsEnded || arg === '-' || !arg.startsWith('-') || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      flagsEnded = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const rawName = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const name = rawName.startsWith('--') ? rawName.slice(2) : SHORT_FLAGS[rawName.slice(1)];
    const type = name !== undefined ? flagTypes[name] : undefined;
    if (name === undefined || type === undefined) {
      throw new UsageError(`Unknown flag ${rawName} for ${where(command)} (${helpHint(command)}).`);
    }
    if (name in values) throw new UsageError(`The flag --${name} is given more than once.`);
    if (type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`The flag --${name} takes no value, got ${quote(inline)}.`);
      values[name] = true;
      continue;
    }
    let text = inline;
    if (text === undefined) {
      const next = argv[i + 1];
      // A negative number is a (bad) value, not a flag: let the converter name it.
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
        throw new UsageError(`The flag --${name} needs a value (${helpHint(command)}).`);
      }
      text = next;
      i++;
    }
    values[name] = convert(type, name, text);
  }

  const expected = spec.positionals;
  if (positionals.length < expected.length) {
    const missing = expected[positionals.length];
    throw new UsageError(`"dev-ports ${command}" needs ${missing.label} (${helpHint(command)}).`);
  }
  if (positionals.length > expected.length) {
    const extra = positionals[expected.length];
    throw new UsageError(`Unexpected argument ${quote(extra)} for ${where(command)} (${helpHint(command)}).`);
  }

  const common: Common = { json: values.json === true, verbose: values.verbose === true };
  switch (command) {
    case 'list':
    case 'allocations':
      return { kind: 'run', command, ...common };
    case 'check':
      return { kind: 'run', command, port: parsePort(positionals[0]), ...common };
    case 'free':
      return {
        kind: 'run',
        command,
        port: parsePort(positionals[0]),
        yes: values.yes === true,
        ...(values.timeout !== undefined ? { timeoutMs: values.timeout as number } : {}),
        ...common,
      };
    case 'find':
      return { kind: 'run', command, range: (values.range as PortRangeArg | undefined) ?? { ...DEFAULT_RANGE }, ...common };
    case 'reserve': {
      const project = parseProject(positionals[0]);
      return {
        kind: 'run',
        command,
        project,
        ...(values.port !== undefined ? { port: values.port as number } : {}),
        ...(values.range !== undefined ? { range: values.range as PortRangeArg } : {}),
        ...common,
      };
    }
    case 'release':
      return { kind: 'run', command, project: parseProject(positionals[0]), ...common };
    case 'cleanup':
      return {
        kind: 'run',
        command,
        olderThanMinutes: (values['older-than'] as number | undefined) ?? DEFAULT_OLDER_THAN_MINUTES,
        ...common,
      };
  }
}

function parseProject(text: string): string {
  if (text.trim() === '') throw new UsageError('The project must be a folder path or a name, got an empty string.');
  return text;
}

function unknownCommand(word: string): UsageError {
  return new UsageError(`Unknown command ${quote(word)}: use one of ${ALL_COMMAND_NAMES.join(', ')} (${helpHint(undefined)}).`);
}
