/**
 * Runs crash-writer.ts in a child process, lets it acknowledge some writes,
 * SIGKILLs it mid-stream and returns every write it acknowledged.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One acknowledged write. */
export interface AckedWrite {
  revision: number;
  name: string;
  /** Committed as an event with its change (the event's target is `name`). */
  event: boolean;
}

export interface CrashRunSettings {
  backend: 'pglite' | 'postgres';
  /** Data directory (pglite) or URL (postgres). */
  target: string;
  /** Kill after this many acknowledgements (then a little later, to land mid-commit). */
  killAfter: number;
  /** Give up after this long. */
  timeoutMs?: number;
}

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
/** The repository root, where `--import tsx` resolves from node_modules. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Run the writer, kill it with SIGKILL, collect acknowledgements.
 *
 * @example
 *   const acked = await runAndKill({ backend: 'pglite', target: dir, killAfter: 40 });
 */
export function runAndKill(settings: CrashRunSettings): Promise<AckedWrite[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WRITER, settings.backend, settings.target],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const acked: AckedWrite[] = [];
  let buffer = '';
  let stderr = '';
  let killed = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash-writer: no ${settings.killAfter} acks in time; stderr: ${stderr}`));
    }, settings.timeoutMs ?? 60_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [rev, name, kind] = line.split(' ');
        if (name === undefined) continue; // "ready"
        acked.push({ revision: Number(rev), name, event: kind === 'event' });
      }
      if (!killed && acked.length >= settings.killAfter) {
        killed = true;
        // A short, varying delay so the kill lands inside a later commit.
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 5));
      }
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || !killed) {
        reject(new Error(`crash-writer exited on its own (${String(signal)}); stderr: ${stderr}`));
        return;
      }
      resolve(acked);
    });
  });
}
