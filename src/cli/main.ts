/**
 * Entry point of the bundled `dev-ports` CLI (dist/cli.js): wires the real process into `runCli` and sets the
 * exit code. It never calls process.exit, so piped output is flushed before Node exits.
 */
import * as tty from 'tty';
import { nodeOs } from '../os/index';
import { runCli, type CliIo } from './commands';

// `dev-ports list | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

const io: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  // A getter: touching process.stdin opens it, and only `free` on a terminal ever reads it.
  get stdin() {
    return process.stdin;
  },
  isTTY: tty.isatty(0),
  // A pseudo-terminal without a size reports 0 columns: treat it as unknown rather than cutting everything.
  columns: process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined,
  env: process.env,
  cwd: process.cwd(),
};

runCli(process.argv.slice(2), io, nodeOs).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`dev-ports: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
