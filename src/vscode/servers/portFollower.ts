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

/**
 * Which of the ports the server's own tree listens on it serves on: the current one if it is among them; else the
 * last one it announced in its output; else one in the project's range; else the lowest that is not an HMR or
 * inspector port. `undefined` when its tree listens on nothing.
 *
 * @example
 * servedPort({ current: 3000, ownPorts: [3001, 24678], announced: [3001] }); // 3001
 * servedPort({ current: 3000, ownPorts: [3000, 24678], announced: [] }); // 3000
 */
export function servedPort(input: { current: number; ownPorts: readonly number[]; announced: readonly number[]; range?: PortRange }): number | undefined {
  const own = new Set(input.ownPorts);
  if (own.has(input.current)) return input.current;
  for (let i = input.announced.length - 1; i >= 0; i--) if (own.has(input.announced[i])) return input.announced[i];
  const sorted = [...own].sort((a, b) => a - b);
  const main = sorted.filter((p) => !isAuxiliaryPort(p));
  const inRange = input.range ? main.filter((p) => p >= input.range!.start && p <= input.range!.end) : [];
  return inRange[0] ?? main[0] ?? sorted[0];
}
