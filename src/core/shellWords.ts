/**
 * A small POSIX-shell word splitter for package.json scripts: quotes, backslashes and the control operators npm's
 * `sh -c` understands. It never expands anything (`$PORT` stays `$PORT`, globs stay globs): Dev Ports only reads
 * scripts to find the command that serves, it never runs the text it parsed.
 *
 * Why not shell-quote: it expands `$VAR` by default, returns operators as objects mixed with strings, and would be
 * the extension's only runtime dependency; what scripts need here is 150 lines with a test for every shape.
 */

/** Operators that separate commands; `|&` and `;;` are not in package.json scripts in practice. */
export type ShellOperator = '&&' | '||' | ';' | '|' | '&';

export interface ShellCommand {
  /** The command's words, unquoted. Empty for a bare `( … )` group, which is flattened into its own commands. */
  argv: string[];
  /** The operator that follows this command (undefined for the last one). */
  next?: ShellOperator;
}

export type ShellToken = { word: string } | { op: ShellOperator | '(' | ')' };

/**
 * Splits a command line into words and operators. Undefined when a quote is left open (the script is broken,
 * so nothing about it can be trusted).
 *
 * @example
 * shellTokens(`NODE_OPTIONS='--a --b' vite && echo "done"`);
 * // [{ word: 'NODE_OPTIONS=--a --b' }, { word: 'vite' }, { op: '&&' }, { word: 'echo' }, { word: 'done' }]
 */
export function shellTokens(line: string): ShellToken[] | undefined {
  const tokens: ShellToken[] = [];
  let word = '';
  let inWord = false;
  const flush = () => {
    if (inWord) tokens.push({ word });
    word = '';
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        // Inside double quotes a backslash only escapes $ ` " \ and a newline.
        if (line[j] === '\\' && j + 1 < line.length && '$`"\\\n'.includes(line[j + 1])) {
          j++;
          if (line[j] !== '\n') word += line[j];
        } else word += line[j];
      }
      if (j >= line.length) return undefined;
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < line.length) {
        i++;
        if (line[i] !== '\n') {
          word += line[i];
          inWord = true;
        }
      }
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      flush();
    } else if (c === '#' && !inWord) {
      // A comment runs to the end of the line.
      const end = line.indexOf('\n', i);
      if (end < 0) break;
      i = end - 1;
    } else if (c === '&' || c === '|' || c === ';' || c === '(' || c === ')') {
      flush();
      const two = line.slice(i, i + 2);
      if (two === '&&' || two === '||') {
        tokens.push({ op: two });
        i++;
      } else if (c === '&' && line[i + 1] === '>') {
        // `&>file` redirects; keep it as a word so it does not split the command.
        word = '&';
        inWord = true;
      } else tokens.push({ op: c as ShellOperator | '(' | ')' });
    } else {
      word += c;
      inWord = true;
    }
  }
  flush();
  return tokens;
}

/**
 * The commands of a command line, in order, each with the operator after it; parentheses are flattened (a group
 * runs its commands like the line does). Undefined for an unbalanced quote.
 *
 * @example
 * parseCommandLine('tsc -w & vite --host');
 * // [{ argv: ['tsc', '-w'], next: '&' }, { argv: ['vite', '--host'] }]
 */
export function parseCommandLine(line: string): ShellCommand[] | undefined {
  const tokens = shellTokens(line);
  if (!tokens) return undefined;
  const commands: ShellCommand[] = [];
  let argv: string[] = [];
  for (const t of tokens) {
    if ('word' in t) argv.push(t.word);
    else if (t.op === '(' || t.op === ')') {
      if (argv.length > 0) commands.push({ argv });
      argv = [];
    } else {
      if (argv.length > 0) commands.push({ argv, next: t.op });
      else if (commands.length > 0) commands[commands.length - 1].next = t.op;
      argv = [];
    }
  }
  if (argv.length > 0) commands.push({ argv });
  return commands;
}

/**
 * The words of a command line, operators dropped; undefined for an unbalanced quote.
 *
 * @example
 * splitShellWords(`dotenv -e "my env" -- vite`); // ['dotenv', '-e', 'my env', '--', 'vite']
 */
export function splitShellWords(line: string): string[] | undefined {
  return shellTokens(line)?.flatMap((t) => ('word' in t ? [t.word] : []));
}

/**
 * A word quoted for `sh` only when it needs it.
 *
 * @example
 * quoteShellWord('--port'); // '--port'
 * quoteShellWord("it's"); // `'it'\''s'`
 */
export function quoteShellWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line for `sh` from words. */
export function joinShellWords(words: readonly string[]): string {
  return words.map(quoteShellWord).join(' ');
}
