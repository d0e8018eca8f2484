/**
 * MODEL_VALIDATION names what the engine's batch validation accepts: a restart trusts a
 * model stamped with it (docs/adr/0059-trusted-model-load.md). This test fingerprints the
 * sources that decide what is accepted, so a change to them cannot slip by unnoticed.
 * When it fails: if what validation accepts or refuses changed (a new check, a stricter
 * grammar), bump MODEL_VALIDATION in apply-batch.ts; then, either way, record the new
 * fingerprint below.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Document } from '../../model/types.js';
import { Engine } from '../engine.js';
import { MODEL_VALIDATION } from './apply-batch.js';

const SRC = resolve(import.meta.dirname, '../..');

/** The validation's sources (the whole files, but only validateBatch of apply-batch.ts). */
const SOURCES = [
  'engine/compile/compilable.ts',
  'engine/state/document-index.ts',
  'engine/state/subnet-overlap.ts',
  'engine/state/parsed-addresses.ts',
  'selector/lexer.ts',
  'selector/parse.ts',
  'model/net.ts',
  'model/ports.ts',
];

function validateBatchSource(): string {
  const text = readFileSync(resolve(SRC, 'engine/apply/apply-batch.ts'), 'utf8');
  const m = /export function validateBatch\([\s\S]*?\n}\n/.exec(text);
  if (!m) throw new Error('validateBatch not found in apply-batch.ts');
  return m[0];
}

function fingerprint(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(readFileSync(resolve(SRC, file), 'utf8'));
  hash.update(validateBatchSource());
  return hash.digest('hex').slice(0, 16);
}

describe('MODEL_VALIDATION', () => {
  it('is looked at whenever the validation sources change', () => {
    expect({ stamp: MODEL_VALIDATION, sources: fingerprint() }).toEqual({
      stamp: 'engine-validation/1',
      sources: 'eb9ff421a89eec8c',
    });
  });

  it('a trusted load skips the validation an untrusted one runs', () => {
    const docs: Document[] = [
      { kind: 'Interface', name: 'a', subnet: 'nosuch', ips: ['10.0.0.1'], tags: {} },
    ];
    expect(() => new Engine().load(docs, 0)).toThrow(/no Subnet named "nosuch"/);
    expect(() => new Engine().load(docs, 0, { trusted: true })).not.toThrow();
  });
});
