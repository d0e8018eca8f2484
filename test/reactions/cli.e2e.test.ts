import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startManager, type Manager } from '../cli/harness.js';

let m: Manager;
beforeAll(async () => {
  m = await startManager();
}, 120_000);
afterAll(async () => {
  await m?.stop();
});

describe('vnp event, history, diff, rollback, who-can-reach, apply --dry-run', () => {
  it('walks the quarantine example end to end', async () => {
    const example = join(REPO, 'examples/quarantine');
    const applied = await m.vnp(['apply', '-f', example]);
    expect(applied.code, applied.stderr).toBe(0);
    const rev = Number(
      (await m.vnp(['history', '-n', '1', '-o', 'json'])).stdout.match(/"revision": (\d+)/)![1],
    );

    const who = await m.vnp(['who-can-reach', 'db-1', '--proto', 'tcp', '--port', '5432']);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toContain('web-1');
    expect(who.stdout).toContain('forensics-1');

    // A dry run shows what a change would flip.
    const dir = mkdtempSync(join(tmpdir(), 'vnp-dry-'));
    const change = join(dir, 'change.yaml');
    writeFileSync(change, 'kind: Partition\nname: prod\nselector: env == "prod"\nintra: deny\n');
    const dry = await m.vnp(['apply', '-f', change, '--dry-run']);
    rmSync(dir, { recursive: true, force: true });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('impact:');
    expect(dry.stdout).toMatch(/db-1.*allow\s+deny/);

    const ev = await m.vnp(['event', 'ids.alert', '--target', 'web-1', '--severity', '1']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/reactions fired: quarantine \(revision \d+\)/);
    expect(ev.stdout).toContain('quarantine undoes itself at');

    const denied = await m.vnp(['check', 'web-1', 'db-1', '--proto', 'tcp', '--port', '5432']);
    expect(denied.stdout).toMatch(/deny/);

    const hist = await m.vnp(['history', '-n', '3']);
    expect(hist.stdout).toContain('reaction:quarantine');

    const diff = await m.vnp(['diff', String(rev), String(rev + 1)]);
    expect(diff.stdout).toContain('Interface/web-1');

    // Change a policy, then roll it back: preview first, then --yes.
    const edit = await m.vnp(['delete', 'policy', 'quarantine-isolate']);
    expect(edit.code, edit.stderr).toBe(0);
    const preview = await m.vnp(['rollback', String(rev)]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain('Policy/quarantine-isolate');
    expect(preview.stdout).toContain('impact:');
    expect(preview.stdout).toContain('preview only');
    const done = await m.vnp(['rollback', String(rev), '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/rolled back to revision \d+: now at revision \d+/);
    const again = await m.vnp(['check', 'web-1', 'db-1', '--proto', 'tcp', '--port', '5432']);
    expect(again.stdout).toMatch(/deny/);
  }, 120_000);
});
