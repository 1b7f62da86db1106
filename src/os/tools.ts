/**
 * The platform tools the OS layer runs (lsof, ss, ps, netstat, PowerShell), and what to say when one is missing:
 * which package provides it on this platform, and which fallback was used instead. Tools are always started with
 * argument arrays, never through a shell.
 */
import { execFile } from 'node:child_process';
import { errorCode } from './errors';

/** Where each tool comes from, per platform: the sentence after "Install". */
const PACKAGES: Record<string, Partial<Record<NodeJS.Platform, string>>> = {
  lsof: {
    linux: 'the package "lsof" (apt install lsof, dnf install lsof, apk add lsof)',
    darwin: 'lsof, which is part of macOS at /usr/sbin/lsof: put /usr/sbin back on PATH',
    freebsd: 'the package "lsof" (pkg install lsof)',
  },
  ss: { linux: 'the package "iproute2" (apt install iproute2, dnf install iproute, apk add iproute2)' },
  ps: {
    linux: 'the package "procps" (apt install procps, dnf install procps-ng, apk add procps)',
    darwin: 'ps, which is part of macOS at /bin/ps: put /bin back on PATH',
  },
  netstat: { win32: 'netstat.exe, which is part of Windows in C:\\Windows\\System32: put that folder back on PATH' },
  'powershell.exe': {
    win32:
      'Windows PowerShell, which is part of Windows (C:\\Windows\\System32\\WindowsPowerShell\\v1.0), or PowerShell 7 ' +
      '(winget install Microsoft.PowerShell), which Dev Ports also looks for as pwsh',
  },
};

/** The package (or folder) that provides `tool` on `platform`, as a phrase. */
export function packageFor(tool: string, platform: NodeJS.Platform = process.platform): string {
  return PACKAGES[tool]?.[platform] ?? PACKAGES[tool]?.linux ?? `the package that provides "${tool}"`;
}

/**
 * A tool the OS layer needs was not found in PATH (and no fallback worked). `tools` are every tool tried, in
 * order; the message names the package of each.
 */
export class MissingToolError extends Error {
  readonly code = 'ENOTOOL';

  constructor(
    message: string,
    readonly tools: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MissingToolError';
  }
}

/**
 * The sentence for a missing tool: what it is needed for, and what to install.
 *
 * @example
 * missingToolMessage('lsof', 'find which process holds a port', 'linux');
 * // 'lsof was not found in PATH; it is needed to find which process holds a port. Install the package "lsof" (apt install lsof, …).'
 */
export function missingToolMessage(tool: string, purpose: string, platform: NodeJS.Platform = process.platform): string {
  return `${tool} was not found in PATH; it is needed to ${purpose}. Install ${packageFor(tool, platform)}.`;
}

const notices: string[] = [];

/**
 * One line per fallback the OS layer used in this process (a missing tool and what was used instead), oldest first,
 * each said once: for a `--verbose` CLI or the extension's log.
 *
 * @example
 * toolNotices(); // ['ss was not found in PATH (install the package "iproute2" …); used lsof instead.']
 */
export function toolNotices(): readonly string[] {
  return notices;
}

const noticeListeners = new Set<(line: string) => void>();

/**
 * Calls `listener` with every line of {@link toolNotices} so far and then with each new one, until the returned
 * function is called: the extension's log and `--verbose` say which fallback answered.
 *
 * @example
 * const stop = onToolNotice((line) => logger.warn(line));
 */
export function onToolNotice(listener: (line: string) => void): () => void {
  for (const line of notices) listener(line);
  noticeListeners.add(listener);
  return () => noticeListeners.delete(listener);
}

/** Records that `tool` was missing and `fallback` was used instead (once per pair). */
export function noteFallback(tool: string, fallback: string, platform: NodeJS.Platform = process.platform): void {
  const line = `${tool} was not found in PATH (install ${packageFor(tool, platform)}); used ${fallback} instead.`;
  if (notices.includes(line)) return;
  notices.push(line);
  for (const listener of noticeListeners) listener(line);
}

export interface ToolResult {
  stdout: string;
  /** Exit status (0 when it succeeded); a non-zero exit with output is the caller's to judge (lsof exits 1 when nothing matched). */
  status: number;
}

/**
 * Runs a tool with an argument array. A tool missing from PATH rejects with {@link MissingToolError} naming the
 * package to install; a non-zero exit resolves with its status.
 */
export function runTool(file: string, args: string[], purpose: string, platform: NodeJS.Platform = process.platform): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', windowsHide: true }, (err, stdout) => {
      if (!err) return resolve({ stdout, status: 0 });
      if (errorCode(err) === 'ENOENT') return reject(new MissingToolError(missingToolMessage(file, purpose, platform), [file], { cause: err }));
      const status = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      if (status > 0) return resolve({ stdout, status });
      reject(err);
    });
  });
}

/**
 * Tries each tool in order until one runs; a missing one is noted as a fallback. When none is found, rejects with
 * one {@link MissingToolError} naming every package.
 */
export async function firstAvailable<T>(
  attempts: readonly { tool: string; run: () => Promise<T> }[],
  purpose: string,
  platform: NodeJS.Platform = process.platform,
): Promise<T> {
  const missing: string[] = [];
  for (const attempt of attempts) {
    try {
      const result = await attempt.run();
      for (const tool of missing) noteFallback(tool, attempt.tool, platform);
      return result;
    } catch (err) {
      if (!(err instanceof MissingToolError)) throw err;
      missing.push(...err.tools.filter((t) => !missing.includes(t)));
    }
  }
  throw new MissingToolError(
    `None of ${missing.join(', ')} was found in PATH; one is needed to ${purpose}. Install ${missing.map((t) => packageFor(t, platform)).join(', or ')}.`,
    missing,
  );
}
