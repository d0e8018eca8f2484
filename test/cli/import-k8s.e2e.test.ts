/**
 * `vnp import k8s` as a user runs it: a real manager process, manifests in files
 * (multi-document YAML, JSON, kind: List) and on stdin, `--dry-run -o yaml` printing
 * the vnp documents, `vnp check` naming the NetworkPolicy, one-line errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startManager, type Manager, type RunResult } from './harness.js';

let m: Manager;
let dir: string;

beforeAll(async () => {
  m = await startManager();
  dir = mkdtempSync(join(tmpdir(), 'vnp-k8s-'));
}, 120_000);
afterAll(async () => {
  await m?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

function ok(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

const NAMESPACES = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
  - apiVersion: v1
    kind: Namespace
    metadata: {name: ops, labels: {team: ops}}
`;
const PODS = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers:
    - name: nginx
      ports: [{name: http, containerPort: 8080}]
status: {podIP: 10.20.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: ops, labels: {app: probe}}
status: {podIP: 10.20.0.2}
`;
const POLICY = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'web-from-ops', namespace: 'shop' },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [
      {
        from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }],
        ports: [{ port: 'http' }],
      },
    ],
  },
};

describe('vnp import k8s', { timeout: 180_000 }, () => {
  it('dry-run -o yaml prints the vnp documents; the import then applies them', async () => {
    writeFileSync(join(dir, '01-namespaces.yaml'), NAMESPACES);
    writeFileSync(join(dir, '02-pods.yaml'), PODS);
    writeFileSync(join(dir, '03-policy.json'), JSON.stringify(POLICY));
    ok(
      await m.vnp(['apply', '-f', '-'], {
        input: 'kind: Subnet\nname: pods\ncidr: 10.20.0.0/16\n',
      }),
    );
    const yaml = ok(await m.vnp(['import', 'k8s', '-f', dir, '--dry-run', '-o', 'yaml']));
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string; name: string });
    expect(docs.map((d) => `${d.kind}/${d.name}`)).toEqual([
      'Interface/k8s.ops.probe',
      'Interface/k8s.shop.web',
      'Policy/k8s.shop.web-from-ops_isolation',
      'Policy/k8s.shop.web-from-ops_port-1',
    ]);
    const table = ok(await m.vnp(['import', 'k8s', '-f', dir]));
    expect(table).toMatch(/k8s\.shop\.web-from-ops_isolation/);
    const allowed = ok(
      await m.vnp(['check', 'k8s.ops.probe', 'k8s.shop.web', '--port', '8080', '-o', 'json']),
    );
    expect(JSON.parse(allowed)).toMatchObject({
      verdict: 'allow',
      ingress: { policy: 'k8s.shop.web-from-ops_port-1' },
    });
    const denied = ok(
      await m.vnp(['check', '10.20.0.2', '10.20.0.1', '--port', '80', '-o', 'json']),
    );
    expect(JSON.parse(denied)).toMatchObject({
      verdict: 'deny',
      ingress: { policy: 'k8s.shop.web-from-ops_isolation' },
    });
  });

  it('reads stdin and refuses bad input in one line, naming the field', async () => {
    const bad = `${NAMESPACES}---\napiVersion: v1\nkind: Pod\nmetadata: {name: pending, namespace: shop}\nstatus: {phase: Pending}\n`;
    const r = await m.vnp(['import', 'k8s', '-f', '-'], { input: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error: VNP_ERR_VALIDATION: objects\[1\]\.status\.podIP \(Pod shop\/pending\)/,
    );
  });
});
