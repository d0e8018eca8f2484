/**
 * The "Access levels" table of docs/security.md, read from the document itself: the
 * one table the auth-matrix test (and the agent mTLS matrix) check every operation of
 * /openapi.json against.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export const CALLERS = [
  'none',
  'bad',
  'revoked',
  'viewer',
  'operator',
  'admin',
  'agent-own-host',
  'agent-other-host',
] as const;
export type Caller = (typeof CALLERS)[number];
export type Expect = 'ok' | '401' | '403' | 'own';

/** access → caller → expectation. */
export function documentedTable(): Map<string, Record<Caller, Expect>> {
  const text = readFileSync(join(import.meta.dirname, '../../../docs/security.md'), 'utf8');
  const section = text.split('## Access levels')[1]!.split('\n## ')[0]!;
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  const [header, , ...body] = rows;
  expect(header).toEqual(['access', ...CALLERS]);
  return new Map(
    body.map((r) => [
      r[0]!,
      Object.fromEntries(CALLERS.map((c, i) => [c, r[i + 1] as Expect])) as Record<Caller, Expect>,
    ]),
  );
}

/** One operation of /openapi.json with its declared access. */
export interface Operation {
  method: string;
  path: string;
  access: string | undefined;
}

/** Every operation of an /openapi.json document. */
export function operationsOf(doc: {
  paths: Record<string, Record<string, { 'x-vnp-access'?: string }>>;
}): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method, path, access: op['x-vnp-access'] })),
  );
}

/** Whether a status meets an expectation (`own` resolved by the caller). */
export function meets(want: Exclude<Expect, 'own'>, got: number): boolean {
  return want === 'ok' ? got !== 401 && got !== 403 && got < 500 : got === Number(want);
}
