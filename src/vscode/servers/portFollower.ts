/**
 * Drift: a dev server that ended up on another port than the one Dev Ports gave it (a framework that moved by
 * itself, Nuxt moving out of the range to 3000, a port taken after Dev Ports' check). The port that counts is the
 * one the project's own process tree listens on, never what another process holds on the old port, and never a
 * URL in the output alone (it may name an API the app talks to).
 */
import type { PortRange } from '../../core/types';

/** Ports a dev server opens besides the one it serves on: Vite's HMR socket (24678…), Node's inspector (9229…). */
export function isAuxiliaryPort(port: number): boolean {
  return (port >= 24678 && port <= 24699) || (port >= 9229 && port <= 9239);
}

/** How far a framework moves by itself from a taken port without saying where (Vite, Next, Eleventy: +1…+10). */
const SILENT_MOVE_SPAN = 20;

/**
 * Which of the ports the server's own tree listens on it serves on: the current one if it is among them; else the
 * last one it announced in its output (Nuxt's move to 3000 is said there); else, unannounced, one in the project's
 * range or a few ports above the current one (a framework trying the next ports). Any other port of its tree (a
 * debugger's or inspector's, HMR) is an extra port, never the one it serves on: `undefined` then.
 *
 * @example
 * servedPort({ current: 3000, ownPorts: [3001, 24678], announced: [3001] }); // 3001
 * servedPort({ current: 3000, ownPorts: [3000, 24678], announced: [] }); // 3000
 */
export function servedPort(input: { current: number; ownPorts: readonly number[]; announced: readonly number[]; range?: PortRange }): number | undefined {
  const own = new Set(input.ownPorts);
  if (own.has(input.current)) return input.current;
  for (let i = input.announced.length - 1; i >= 0; i--) if (own.has(input.announced[i])) return input.announced[i];
  const main = [...own].filter((p) => !isAuxiliaryPort(p)).sort((a, b) => a - b);
  const inRange = input.range ? main.filter((p) => p >= input.range!.start && p <= input.range!.end) : [];
  const nearby = main.filter((p) => p > input.current && p <= input.current + SILENT_MOVE_SPAN);
  return inRange[0] ?? nearby[0];
}
