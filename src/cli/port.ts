/**
 * `dev-ports port [<project>] [--json]`: the port a project is reserved for, for scripts and agents
 * (`curl http://localhost:$(dev-ports port apps/web)/`). Reads the machine-wide ledger only; reserves nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Ledger, type LedgerEntry } from '../core/ledger';
import { normalizeProjectId } from '../core/projects';
import type { Logger } from '../core/types';
import { UsageError } from './args';
import type { CliIo } from './commands';
import { formatJson } from './format';
import { printable } from './run';

export interface PortRequest {
  project?: string;
  json: boolean;
  verbose: boolean;
}

export const PORT_HELP = `Usage: dev-ports port [<project>] [--json]

Prints the port <project> is reserved for (by "dev-ports run", "dev-ports reserve" or the VS Code extension),
just the number:
  curl http://localhost:$(dev-ports port apps/web)/
<project> defaults to the current folder; from a folder inside a project, that project's port is printed. A
name that is not a folder is matched against the reserved projects' folder names.

JSON: { projectId, port }
Exit: 0, 1 no port is reserved for it.`;

/**
 * Parses the arguments after `port`.
 *
 * @example
 * parsePortArgs(['apps/web', '--json']); // { project: 'apps/web', json: true, verbose: false }
 */
export function parsePortArgs(args: readonly string[]): PortRequest {
  const req: PortRequest = { json: false, verbose: false };
  let flagsEnded = false;
  for (const arg of args) {
    if (!flagsEnded && arg === '--') {
      flagsEnded = true;
      continue;
    }
    if (!flagsEnded && arg.startsWith('-') && arg !== '-') {
      if (arg === '--json' && !req.json) req.json = true;
      else if (arg === '--verbose' && !req.verbose) req.verbose = true;
      else if (arg === '--json' || arg === '--verbose') throw new UsageError(`The flag ${arg} is given more than once.`);
      else throw new UsageError(`Unknown flag ${arg.split('=')[0]} for "dev-ports port" (see dev-ports port --help).`);
      continue;
    }
    if (req.project !== undefined) throw new UsageError(`Unexpected argument ${JSON.stringify(arg)} for "dev-ports port" (see dev-ports port --help).`);
    if (arg.trim() === '') throw new UsageError('The project must be a folder path or a name, got an empty string.');
    req.project = arg;
  }
  return req;
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The reservation that answers for `target`: the project's own, else the deepest reserved project containing it,
 * else (for a name that is no folder) the only reserved project with that folder name.
 *
 * @example
 * findReservation(ledger.entries(), '/src/shop/apps/web/src', 'web'); // the entry of /src/shop/apps/web
 */
export function findReservation(entries: readonly LedgerEntry[], target: string, given?: string): LedgerEntry | undefined {
  const exact = entries.find((e) => e.projectId === target);
  if (exact) return exact;
  if (given !== undefined && !given.includes('/') && !given.includes(path.sep) && !fs.existsSync(target)) {
    const named = entries.filter((e) => path.basename(e.projectId) === given);
    if (named.length === 1) return named[0];
  }
  const containing = entries.filter((e) => isInside(e.projectId, target)).sort((a, b) => b.projectId.length - a.projectId.length);
  return containing[0];
}

/**
 * Runs `dev-ports port`: 0 and the port, or 1 with one sentence on stderr when none is reserved.
 *
 * @example
 * await portCommand({ io, logger }, { project: 'apps/web', json: false, verbose: false }); // prints 3000
 */
export async function portCommand(ctx: { io: CliIo; logger: Logger }, req: PortRequest): Promise<number> {
  const { io } = ctx;
  const target = normalizeProjectId(path.resolve(io.cwd, req.project ?? '.'));
  const ledger = new Ledger({ home: Ledger.defaultHome(io.env), logger: ctx.logger });
  const entry = findReservation(ledger.entries(), target, req.project);
  if (!entry) {
    if (req.json) io.stdout.write(formatJson({ projectId: target, port: null }));
    io.stderr.write(
      `dev-ports: No port is reserved for ${printable(target)}; start it with "dev-ports run -- <command>" or reserve one with "dev-ports reserve ${printable(req.project ?? '.')}".\n`,
    );
    return 1;
  }
  io.stdout.write(req.json ? formatJson({ projectId: entry.projectId, port: entry.port }) : `${entry.port}\n`);
  return 0;
}
