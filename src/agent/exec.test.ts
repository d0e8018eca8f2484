import { describe, expect, it } from 'vitest';
import { makeExec, runDirect } from './exec.js';
import { Spawner } from './spawner.js';

describe('makeExec (through the command helper)', () => {
  const exec = makeExec();

  it('returns exit code, stdout and stderr, and feeds input as a file to open', async () => {
    const r = await exec(['sh', '-c', 'cat; echo err >&2; exit 3'], 'hello\n');
    expect(r).toEqual({ code: 3, stdout: 'hello\n', stderr: 'err\n' });
    // What `nft -f -` does (a socket's /dev/stdin cannot be opened).
    expect((await exec(['cat', '/dev/stdin'], 'x'.repeat(200_000))).stdout).toHaveLength(200_000);
    // Many at once: each reply reaches its own caller.
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) => exec(['sh', '-c', `echo ${i}`])),
    );
    expect(many.map((x) => x.stdout.trim())).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
  });

  it('rejects a command that cannot be started, as a direct spawn does', async () => {
    await expect(exec(['/nonexistent/vnp-no-such-command'])).rejects.toThrow(/ENOENT/);
  });

  it('runs the commands in the helper, not in this process', async () => {
    const ppid = Number((await exec(['sh', '-c', 'echo $PPID'])).stdout.trim());
    expect(ppid).not.toBe(process.pid);
    // A spawner whose helper never answers direct runs only when it cannot start.
    let direct = 0;
    const s = new Spawner(async () => {
      direct++;
      return { code: 0, stdout: '', stderr: '' };
    });
    expect((await s.run(['true'])).code).toBe(0);
    expect(direct).toBe(0);
  });

  it('runs directly (the fallback) with the same input file', async () => {
    expect((await runDirect(['cat', '/dev/stdin'], 'direct\n')).stdout).toBe('direct\n');
  });
});
