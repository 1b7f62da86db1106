// Collects the result tables: prints each row to stdout as soon as it is measured, and renders RESULTS.md at the end.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { countProcesses } from './procs.mjs';

class Section {
  /** @param {string} title @param {string[]} columns @param {number[]} [widths] stdout column widths */
  constructor(title, columns, widths) {
    this.title = title;
    this.columns = columns;
    /** @type {string[][]} */
    this.rows = [];
    /** @type {string[]} */
    this.notes = [];
    this.widths = columns.map((c, i) => widths?.[i] ?? Math.max(8, Math.min(30, c.length)));
    process.stdout.write(`\n## ${title}\n${this.#line(columns)}\n`);
  }

  #line(cells) {
    return cells.map((c, i) => String(c).padEnd(this.widths[i])).join('  ').trimEnd();
  }

  /** @param {Array<string | number>} cells */
  add(cells) {
    const row = cells.map(String);
    this.rows.push(row);
    process.stdout.write(`${this.#line(row)}\n`);
  }

  note(text) {
    this.notes.push(text);
    process.stdout.write(`  note: ${text}\n`);
  }

  toMarkdown() {
    const esc = (s) => s.replace(/\|/g, '\\|');
    const lines = [`## ${this.title}`, '', `| ${this.columns.map(esc).join(' | ')} |`, `|${this.columns.map(() => '---').join('|')}|`];
    for (const row of this.rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
    if (this.notes.length) lines.push('', ...this.notes.map((n) => `- ${n}`));
    return lines.join('\n');
  }
}

export class Report {
  /** @type {Section[]} */
  sections = [];
  /** @type {Array<{ row: string, goal: string, met: boolean | undefined, detail: string }>} */
  goals = [];

  section(title, columns, widths) {
    const s = new Section(title, columns, widths);
    this.sections.push(s);
    return s;
  }

  /**
   * The hand-written analysis of a row (bench/notes/row-<id>.md: a missed goal's profile and what would close it),
   * placed after that row's tables; kept in its own file so that a full run, which rewrites RESULTS.md, keeps it.
   */
  notes(rowId) {
    let text;
    try {
      text = readFileSync(new URL(`../notes/row-${rowId}.md`, import.meta.url), 'utf8').trim();
    } catch {
      return;
    }
    if (text) this.sections.push({ toMarkdown: () => text });
  }

  /** @param {boolean | undefined} met undefined = not measured */
  goal(row, goal, met, detail) {
    this.goals.push({ row, goal, met, detail });
  }

  /** @param {{ startedAt: Date, elapsedMs: number, network: string, loadBefore: number[], loadAfter: number[] }} run */
  toMarkdown(run) {
    const m = machine();
    const out = [
      '# Dev Ports benchmark results',
      '',
      `Written by \`npm run bench\` (\`node bench/run.mjs\`) on ${run.startedAt.toISOString()}; the whole run took ${(run.elapsedMs / 1000).toFixed(1)} s.`,
      'Everything was measured in one run on the machine below, with real sockets and real processes; the library is',
      'the esbuild bundle of `src/core/index.ts` (built by the run into `.bench-tmp/`). Median and p95 (nearest rank) in ms;',
      '"peer/ours" is the peer\'s median divided by ours (above 1 means ours is faster).',
      '',
      '| machine | |',
      '|---|---|',
      `| CPU | ${m.cpu} |`,
      `| cores | ${m.cores} |`,
      `| memory | ${m.memory} |`,
      `| kernel | ${m.kernel} |`,
      `| OS | ${m.os} |`,
      `| Node | ${m.node} |`,
      `| date | ${run.startedAt.toISOString()} |`,
      `| processes before the run | ${m.processes} |`,
      `| load average (1/5/15 min) before / after | ${run.loadBefore.map((l) => l.toFixed(2)).join(' ')} / ${run.loadAfter.map((l) => l.toFixed(2)).join(' ')} |`,
      `| network | ${run.network} |`,
      `| tools | ${m.tools} |`,
      '',
      '## Goals',
      '',
      '| row | goal | met? | measured |',
      '|---|---|---|---|',
      ...this.goals.map((g) => `| ${g.row} | ${g.goal} | ${g.met === undefined ? 'not measured' : g.met ? 'yes' : 'NO'} | ${g.detail.replace(/\|/g, '\\|')} |`),
      '',
      ...this.sections.flatMap((s) => [s.toMarkdown(), '']),
    ];
    return out.join('\n');
  }
}

let cachedMachine;
/** CPU, cores, kernel, Node and the versions of the peer tools, read once at start. */
export function machine() {
  if (cachedMachine) return cachedMachine;
  const tryRun = (cmd, args, pick = (s) => s.split('\n')[0]) => {
    // Some tools print their version on stderr and exit non-zero (lsof -v), so both streams are read.
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    return r.error || !text ? 'unavailable' : pick(text);
  };
  let osName = `${os.type()} ${os.release()}`;
  try {
    osName = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    // not every Linux has os-release; the kernel row still says enough.
  }
  const pkgVersion = (name) => {
    try {
      return JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  cachedMachine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.release()} (${os.version()})`,
    os: osName,
    node: process.version,
    processes: countProcesses(),
    tools: [
      `lsof ${tryRun('lsof', ['-v'], (s) => /revision:\s*(\S+)/.exec(s)?.[1] ?? '?')}`,
      `ss ${tryRun('ss', ['-V'], (s) => /iproute2-(\S+)/.exec(s)?.[1] ?? s)}`,
      `fuser ${tryRun('fuser', ['-V'], (s) => /fuser \(PSmisc\) (\S+)/.exec(s)?.[1] ?? '?')}`,
      `npm ${tryRun('npm', ['--version'])}`,
      ...['pid-port', 'find-process', 'get-port', 'detect-port', 'portfinder', 'kill-port', 'fkill', 'tree-kill'].map((n) => `${n} ${pkgVersion(n)}`),
    ].join(', '),
  };
  return cachedMachine;
}
