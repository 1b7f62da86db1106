// Row 1's stall probe, run in a fresh node process: how long one call holds the event loop (the longest gap
// between ticks of a 1 ms interval, minus nothing: an idle loop shows ~1 ms) and the CPU it costs, for the sliced
// async look-ups and for the one-go sync reads the async path used before. Prints one JSON line.
// argv: <path of the OS bundle> <warm polls>
const { performance } = require('node:perf_hooks');
const os = require(process.argv[2]);
const polls = Number(process.argv[3] || 10);

async function probe(fn, times = 1) {
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > maxGap) maxGap = now - last;
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 15));
  maxGap = 0;
  last = performance.now();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let answer;
  for (let i = 0; i < times; i++) {
    answer = await fn();
    await new Promise((r) => setTimeout(r, 2)); // polls are apart; let the probe tick between them
  }
  const wallMs = (performance.now() - t0) / times;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  const now = performance.now();
  if (now - last > maxGap) maxGap = now - last;
  return { maxGapMs: maxGap, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 / times, answer };
}

const key = (ls) => JSON.stringify(ls.map((l) => [l.port, l.address, l.pids]));

(async () => {
  const out = {};
  os.forgetLastScan();
  const syncCold = await probe(() => os.linuxListeners());
  out.syncCold = { ...syncCold, answer: undefined };
  os.forgetLastScan();
  const asyncCold = await probe(() => os.listListeners());
  out.asyncCold = { ...asyncCold, answer: undefined };
  const sorted = (ls) => [...ls].sort((a, b) => a.port - b.port || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  out.same = key(sorted(syncCold.answer)) === key(asyncCold.answer);
  out.listeners = asyncCold.answer.length;
  out.asyncWarm = { ...(await probe(() => os.listListeners(), polls)), answer: undefined };
  out.syncWarm = { ...(await probe(() => os.linuxListeners(), polls)), answer: undefined };
  out.tableSync = { ...(await probe(() => new Map(new os.LazyProcessTable().entries()))), answer: undefined };
  const table = await probe(() => os.snapshotProcessTable());
  out.tableAsync = { ...table, answer: undefined };
  out.processes = table.answer.size;
  console.log(JSON.stringify(out));
})();
