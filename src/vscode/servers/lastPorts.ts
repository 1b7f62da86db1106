/** The port each project had last time (per workspace), so ports stay the same between runs. */
import type * as vscode from 'vscode';

const LAST_PORTS_KEY = 'devPorts.lastPorts';

export class LastPorts {
  constructor(private readonly state: vscode.Memento) {}

  get(projectId: string): number | undefined {
    return this.all()[projectId];
  }

  remember(projectId: string, port: number): void {
    const ports = this.all();
    if (ports[projectId] === port) return;
    void this.state.update(LAST_PORTS_KEY, { ...ports, [projectId]: port });
  }

  private all(): Record<string, number> {
    return this.state.get<Record<string, number>>(LAST_PORTS_KEY, {});
  }
}
