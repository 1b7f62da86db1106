/**
 * Pure parser of the Windows process list as PowerShell prints it with
 * `Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId,Name,CommandLine | ConvertTo-Json -Compress`:
 *
 * ```
 * [{"ProcessId":4321,"ParentProcessId":880,"Name":"node.exe","CommandLine":"\"C:\\Program Files\\nodejs\\node.exe\" server.js"}]
 * ```
 *
 * ConvertTo-Json prints a bare object (no array) when there is exactly one process, and `CommandLine` is null for
 * processes of other users when not elevated.
 */
import type { ProcessEntry } from './processTable';

/** The PowerShell command whose output {@link parseCimProcesses} reads. */
export const CIM_PROCESS_COMMAND =
  'Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId,Name,CommandLine | ConvertTo-Json -Compress';

interface CimProcess {
  ProcessId?: unknown;
  ParentProcessId?: unknown;
  Name?: unknown;
  CommandLine?: unknown;
}

/**
 * Processes from the CIM JSON; entries without a numeric ProcessId are skipped; empty output gives [].
 *
 * @example
 * parseCimProcesses('{"ProcessId":4,"ParentProcessId":0,"Name":"System","CommandLine":null}');
 * // [{ pid: 4, ppid: 0, name: 'System' }]
 */
export function parseCimProcesses(json: string): ProcessEntry[] {
  const text = json.replace(/^\uFEFF/, '').trim();
  if (text === '') return [];
  const parsed: unknown = JSON.parse(text);
  const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  const entries: ProcessEntry[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const p = item as CimProcess;
    if (typeof p.ProcessId !== 'number' || !Number.isInteger(p.ProcessId)) continue;
    const entry: ProcessEntry = { pid: p.ProcessId, ppid: typeof p.ParentProcessId === 'number' ? p.ParentProcessId : 0 };
    if (typeof p.Name === 'string' && p.Name) entry.name = p.Name;
    if (typeof p.CommandLine === 'string' && p.CommandLine.trim()) entry.command = p.CommandLine.trim();
    entries.push(entry);
  }
  return entries;
}
