/**
 * Reads the output of the shell-integration execution Dev Ports started (`execution.read()`), whole lines at a
 * time, for the two things a dev server says about its port: where it listens (a framework that moved by itself)
 * and that its port is taken ("already in use", or a prompt for another port that would wait forever).
 */
import type * as vscode from 'vscode';
import { announcedPorts, portTrouble, type PortTrouble } from '../../core/portAnnouncements';

export interface OutputHandlers {
  /** False once the server this output belongs to is gone: reading stops. */
  isCurrent(): boolean;
  onAnnouncedPort(port: number): void;
  onTrouble(trouble: PortTrouble): void;
  /** The stream ended: the execution is over. */
  onEnd(): void;
  onError(error: unknown): void;
}

/** Longest unfinished line kept between chunks. */
const MAX_PENDING = 4096;

export async function watchOutput(execution: vscode.TerminalShellExecution, handlers: OutputHandlers): Promise<void> {
  const announced = new Set<number>();
  let troubled = false;
  // Output arrives in arbitrary chunks: a URL split across two (`http://localhost:51` + `74/`) must be read
  // whole, so the unfinished last line waits for the next chunk. A prompt has no line end: it is looked for in
  // the unfinished line too.
  let pending = '';
  try {
    for await (const chunk of execution.read()) {
      if (!handlers.isCurrent()) return;
      const text = pending + chunk;
      const lastBreak = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
      const whole = text.slice(0, lastBreak + 1);
      pending = text.slice(lastBreak + 1).slice(-MAX_PENDING);
      for (const port of announcedPorts(whole)) {
        if (announced.has(port)) continue;
        announced.add(port);
        handlers.onAnnouncedPort(port);
      }
      if (!troubled) {
        const trouble = portTrouble(whole) ?? portTrouble(pending);
        if (trouble && (trouble.kind === 'prompt' || portTrouble(whole))) {
          troubled = true;
          handlers.onTrouble(trouble);
        }
      }
    }
    if (handlers.isCurrent()) handlers.onEnd();
  } catch (error) {
    handlers.onError(error);
  }
}
