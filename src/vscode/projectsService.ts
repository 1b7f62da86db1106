import * as path from 'path';
import * as vscode from 'vscode';
import { normalizeProjectId, type Project } from '../core/projects';
import { discovery } from './lazy';
import type { Logger } from '../core/types';
import type { Config } from './config';
import { errorMessage } from './log';

/**
 * The workspace's dev-server projects. Discovery (plain `fs`, in the core) runs off the activation path and again
 * when a package.json is created, changed or deleted, when workspace folders change, and when a `devPorts.*`
 * setting changes; each run fires `onDidChange`.
 *
 * @example
 * const projects = new ProjectsService(config, log.for('projects'));
 * await projects.ready;
 * projects.get('/home/me/shop/apps/web')?.name; // 'web'
 */
export class ProjectsService implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private projects: Project[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: Promise<void> = Promise.resolve();
  private resolveReady!: () => void;
  /** Resolves after the first discovery finished (successfully or not). */
  readonly ready = new Promise<void>((resolve) => (this.resolveReady = resolve));
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    /** For the core's discovery, whose messages carry their own `[projects]` prefix. */
    private readonly coreLogger: Logger = logger,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/package.json');
    const later = () => this.scheduleRefresh();
    this.disposables.push(
      watcher,
      watcher.onDidCreate(later),
      watcher.onDidChange(later),
      watcher.onDidDelete(later),
      vscode.workspace.onDidChangeWorkspaceFolders(later),
      config.onDidChange((e) => {
        if (e.affectsConfiguration('devPorts.projects') || e.affectsConfiguration('devPorts.devScriptNames')) later();
      }),
    );
  }

  /** Every project, sorted by name. */
  all(): Project[] {
    return this.projects;
  }

  get(projectId: string): Project | undefined {
    const id = normalizeProjectId(projectId);
    return this.projects.find((p) => p.id === id);
  }

  /** The project whose folder is, or contains, `fsPath` (the deepest one). */
  findByPath(fsPath: string): Project | undefined {
    const target = normalizeProjectId(path.basename(fsPath) === 'package.json' ? path.dirname(fsPath) : fsPath);
    let best: Project | undefined;
    for (const p of this.projects) {
      const rel = path.relative(p.folder, target);
      const inside = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
      if (inside && (!best || p.folder.length > best.folder.length)) best = p;
    }
    return best;
  }

  /** The project's folder relative to its workspace folder (the key of `devPorts.projects`), `.` for the root. */
  relativePath(project: Project): string {
    return path.relative(project.workspaceFolder, project.folder).split(path.sep).join('/') || '.';
  }

  /** Discovery now; resolves when it is done. Concurrent calls run one after the other. */
  refresh(): Promise<void> {
    this.current = this.current.then(() => this.discover());
    return this.current;
  }

  /** Coalesces bursts (a `git checkout` touches many package.json files) into one discovery. */
  private scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, 300);
  }

  private async discover(): Promise<void> {
    const started = Date.now();
    try {
      const found: Project[] = [];
      for (const folder of vscode.workspace.workspaceFolders ?? []) {
        if (folder.uri.scheme !== 'file') continue;
        // Settings are read per workspace folder: `devPorts.projects` keys are relative to that folder.
        const settings = this.config.get(folder.uri);
        // Asynchronous and yielding (no synchronous stretch over ~10 ms even on a 300-package.json tree).
        found.push(
          // Discovery (projects, frameworks, script analysis) is dist/discovery.js, loaded by the first refresh.
          ...(await discovery().discoverProjectsAsync([folder.uri.fsPath], {
            devScriptNames: settings.devScriptNames,
            projects: settings.projects,
            logger: this.coreLogger,
          })),
        );
      }
      found.sort((a, b) => a.label.localeCompare(b.label) || a.id.localeCompare(b.id));
      const changed = JSON.stringify(found) !== JSON.stringify(this.projects);
      this.projects = found;
      this.logger.info(`found ${found.length} project(s) in ${Date.now() - started} ms${found.length ? `: ${found.map((p) => p.label).join(', ')}` : ''}`);
      if (changed) this.emitter.fire();
    } catch (error) {
      this.logger.error(`project discovery failed: ${errorMessage(error)}`);
    } finally {
      this.resolveReady();
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
