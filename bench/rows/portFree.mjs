// Row 2: is a port free? The five-listener-kind correctness matrix and the timing on a free port, both measured
// inside a fresh network namespace (see portFreeNetns.mjs).
import { fileURLToPath } from 'node:url';
import { waitForLine } from '../lib/procs.mjs';
import { fmtMs, fmtRatio } from '../lib/stats.mjs';

const CHILD = fileURLToPath(new URL('./portFreeNetns.mjs', import.meta.url));

/**
 * @param {{ corePath: string, registry: import('../lib/procs.mjs').ProcessRegistry, report: import('../lib/report.mjs').Report }} ctx
 */
export async function runPortFree({ corePath, registry, report }) {
  // Detached: the sub-benchmark and its listeners form one group the cleanup can kill with -pgid.
  const child = registry.spawn('unshare', ['-n', process.execPath, CHILD, corePath], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
    label: 'row 2 netns',
  });
  const [line] = await waitForLine(child, /^\{.*\}$/, 60000, 'row 2 sub-benchmark');
  const { matrix, timing } = JSON.parse(line);
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  const toolNames = Object.keys(matrix[0].answers);

  const m = report.section('2a. Is a port free? Says "in use" for a listener on …', ['listener', 'expected', ...toolNames], [19, 8, 20, 11, 11, 11]);
  const wrong = Object.fromEntries(toolNames.map((t) => [t, 0]));
  for (const { kind, expectedInUse, answers } of matrix) {
    m.add([
      kind,
      expectedInUse ? 'in use' : 'free',
      ...toolNames.map((t) => {
        const right = answers[t] === expectedInUse;
        if (!right) wrong[t]++;
        return `${right ? '✓' : '✗'} ${answers[t] ? 'in use' : 'free'}`;
      }),
    ]);
  }
  m.note('each listener is a separate node process; the matrix runs in a private network namespace (`unshare -n`, lo up) so the wildcard listeners and wildcard test binds stay off the machine\'s network.');
  m.note(`wrong answers: ${toolNames.map((t) => `${t} ${wrong[t]}`).join(', ')}.`);

  const t = report.section('2b. Is a port free? Timing on a free port', ['tool', 'median ms', 'p95 ms', 'peer/ours', 'n', 'goal', 'goal met?'], [20, 9, 8, 9, 4, 15, 9]);
  const ours = timing[0];
  const oursKindsRight = wrong[toolNames[0]] === 0;
  const speedMet = ours.stats.median <= 0.2;
  for (const { tool, stats } of timing) {
    const isOurs = tool === ours.tool;
    t.add([
      tool,
      fmtMs(stats.median),
      fmtMs(stats.p95),
      isOurs ? '1×' : fmtRatio(stats.median, ours.stats.median),
      stats.n,
      isOurs ? 'median ≤ 0.2 ms' : '',
      isOurs ? (speedMet ? 'yes' : 'NO') : '',
    ]);
  }
  report.goal('2', 'is-port-free right for all 5 listener kinds', oursKindsRight, `${5 - matrix.filter((r) => r.expectedInUse && r.answers[toolNames[0]] !== true).length}/5 kinds right, free port ${matrix.at(-1).answers[toolNames[0]] ? 'wrongly in use' : 'free'}`);
  report.goal('2', 'is-port-free median ≤ 0.2 ms', speedMet, `${fmtMs(ours.stats.median)} ms median, ${fmtMs(ours.stats.p95)} ms p95`);
}
