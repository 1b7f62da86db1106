/** Errors a start or stop can end with; commands tell them apart to decide what the user sees. */
import { DevPortsError } from '../../core/errors';
import type { Project } from '../../core/projects';

/** The project already runs from another VS Code window (its extension host holds the reservation). */
export class OtherWindowError extends DevPortsError {
  constructor(project: Project, port: number, hostPid: number) {
    super(
      `${project.name} already runs on port ${port} from another VS Code window (extension host PID ${hostPid}). Stop it there, or free port ${port} first.`,
      'PORT_RESERVED',
    );
  }
}

/** The user chose not to go on (dismissed a question); commands resolve to `undefined`, nothing is shown. */
export class CancelledError extends Error {
  constructor() {
    super('Cancelled.');
    this.name = 'CancelledError';
  }
}

/** Starting is refused in an untrusted workspace: scripts come from the workspace. */
export class UntrustedWorkspaceError extends Error {
  constructor(project: Project) {
    super(
      `Dev Ports does not start ${project.name}: this workspace is not trusted, and its dev script comes from the workspace. Trust the workspace to start dev servers; listing and freeing ports still work.`,
    );
    this.name = 'UntrustedWorkspaceError';
  }
}
