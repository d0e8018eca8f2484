/**
 * `POST /v1/apply {documents, dryRun?}`: create or replace every document as one
 * batch, all or nothing (design.md §5). `kind: Test` documents are checked on a
 * fork of the model with the batch applied; one failing test refuses the apply.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../engine/index.js';
import type { Change, RuleWarning } from '../../engine/index.js';
import { refuseIcmpPort } from '../../model/check.js';
import { VnpError } from '../../model/errors.js';
import type { Document, TestDocument } from '../../model/types.js';
import { actorOf } from '../auth.js';
import { documentFromApply } from '../documents.js';
import { ApplyBody } from '../schemas.js';
import { impactRunner, snapshotForImpact, type ImpactSnapshot } from '../impact-preview.js';
import type { Manager } from '../manager.js';
import type { ManagerPluginOptions } from './plugin-options.js';

/** The outcome of one Test document. */
export interface TestOutcome {
  name: string;
  src: string;
  dst: string;
  proto?: string;
  port?: number;
  expect: 'allow' | 'deny';
  /** The verdict on the would-be state; absent when the check itself failed. */
  got?: 'allow' | 'deny';
  passed: boolean;
  reason: string;
}

/** Split and validate the batch; a document named twice is refused. */
function parseBatch(raw: unknown[]): { docs: Document[]; tests: TestDocument[] } {
  const docs: Document[] = [];
  const tests: TestDocument[] = [];
  const seen = new Map<string, number>();
  raw.forEach((r, i) => {
    const { doc, test } = documentFromApply(r, i);
    const item = doc ?? test!;
    const key = `${item.kind}/${item.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `documents[${i}]: ${key} appears twice (also documents[${first}])`,
        {
          field: `documents[${i}].name`,
        },
      );
    }
    seen.set(key, i);
    if (doc) docs.push(doc);
    else tests.push(test!);
  });
  return { docs, tests };
}

/**
 * Run Test documents against a model (a fork with the batch applied).
 *
 * @example
 *   runTests(fork, [{ kind: 'Test', name: 't', src: 'a', dst: 'b', expect: 'deny' }])
 */
export function runTests(engine: Engine, tests: TestDocument[]): TestOutcome[] {
  return tests.map((testDocument) => {
    const base = {
      name: testDocument.name,
      src: testDocument.src,
      dst: testDocument.dst,
      ...(testDocument.proto ? { proto: testDocument.proto } : {}),
      ...(testDocument.port !== undefined ? { port: testDocument.port } : {}),
      expect: testDocument.expect,
    };
    try {
      refuseIcmpPort(testDocument.proto, testDocument.port);
      const r = engine.check({
        src: testDocument.src,
        dst: testDocument.dst,
        ...(testDocument.proto ? { protocol: testDocument.proto } : {}),
        ...(testDocument.port !== undefined ? { port: testDocument.port } : {}),
      });
      return {
        ...base,
        got: r.verdict,
        passed: r.verdict === testDocument.expect,
        reason: r.reason,
      };
    } catch (err) {
      if (!(err instanceof VnpError)) throw err;
      return { ...base, passed: false, reason: `${err.code}: ${err.message}` };
    }
  });
}

/**
 * The apply plugin.
 *
 * @example
 *   await app.register(applyRoutes, { manager });
 */
export const applyRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  app.post(
    '/v1/apply',
    {
      config: { access: 'admin', write: true },
      schema: {
        tags: ['apply'],
        summary: 'Create or replace documents, all or nothing',
        body: ApplyBody,
      },
    },
    async (request) => {
      const body = request.body as { documents: unknown[]; dryRun?: boolean; strict?: boolean };
      const { docs, tests } = parseBatch(body.documents);
      return writeBatch(manager, {
        actor: actorOf(request.principal),
        action: `apply ${docs.length} document(s)`,
        changes: docs.map((doc): Change => ({ op: 'put', doc })),
        tests,
        dryRun: body.dryRun === true,
        strict: body.strict === true,
      });
    },
  );
};

/**
 * Rules that can never decide once the batch is applied (design.md §2.1), for the
 * policies it writes: as the rule that never decides or as the rule that shadows it
 * (every policy when it writes a partition: partition peers stand for their
 * selectors). `strict` also reports rules that match no record, which needs the batch's
 * records evaluated: a fork with the batch applied.
 */
function ruleWarningsOf(
  engine: Engine,
  changes: Change[],
  changed: Change[],
  strict: boolean,
  now: number,
): RuleWarning[] {
  const written = changed.flatMap((c) => (c.op === 'put' ? [c.doc] : []));
  const policies = new Set(written.filter((d) => d.kind === 'Policy').map((d) => d.name));
  const partitions = written.some((d) => d.kind === 'Partition');
  if (policies.size === 0 && !partitions) return [];
  const opts = partitions ? {} : { policies };
  if (!strict) return engine.ruleWarningsAfter(changes, opts);
  const fork = engine.fork();
  fork.apply(changes, now);
  return fork.ruleWarnings({ ...opts, strict: true });
}

export interface Batch {
  actor: string;
  action: string;
  /** The changes, or how to make them from the model under the write lock. */
  changes: Change[] | ((engine: Engine) => Change[]);
  tests: TestDocument[];
  dryRun: boolean;
  /** Refuse on any rule warning (VNP_ERR_RULE_WARNINGS); also report unused rules. */
  strict?: boolean;
}

/**
 * Write one all-or-nothing batch (puts and deletes) as one revision: unchanged
 * documents are skipped, Test documents are checked on a fork with the whole batch
 * applied, a dry run commits nothing and previews the impact after the lock.
 *
 * @example await writeBatch(manager, { actor, action: 'apply 3 document(s)', changes, tests: [], dryRun: false })
 */
export async function writeBatch(
  manager: Manager,
  batch: Batch,
): Promise<{
  revision?: number;
  dryRun?: true;
  diff: unknown[];
  tests: TestOutcome[];
  ruleWarnings: RuleWarning[];
}> {
  const { tests, dryRun } = batch;
  let snapshot: ImpactSnapshot | undefined;
  const { record, result } = await manager.write(
    { actor: batch.actor, action: batch.action },
    (engine) => {
      const changes = typeof batch.changes === 'function' ? batch.changes(engine) : batch.changes;
      const diff = engine.diff(changes);
      const unchanged = new Set(
        diff.filter((d) => d.op === 'unchanged').map((d) => `${d.kind}/${d.name}`),
      );
      const changed = changes.filter(
        (c) => c.op === 'delete' || !unchanged.has(`${c.doc.kind}/${c.doc.name}`),
      );
      let outcomes: TestOutcome[] = [];
      let fork: Engine | undefined;
      if (tests.length > 0) {
        fork = engine.fork();
        fork.apply(changes, manager.now());
        outcomes = runTests(fork, tests);
        const failed = outcomes.filter((o) => !o.passed);
        if (failed.length > 0) {
          throw new VnpError(
            'VNP_ERR_TEST_FAILED',
            `${failed.length} of ${tests.length} test(s) failed; nothing changed`,
            { failed },
          );
        }
      } else {
        engine.validate(changes);
      }
      const strict = batch.strict === true;
      const warnings = ruleWarningsOf(engine, changes, changed, strict, manager.now());
      if (strict && warnings.length > 0)
        throw new VnpError(
          'VNP_ERR_RULE_WARNINGS',
          `${warnings.length} rule warning(s) with strict: ${warnings[0]!.message}${warnings.length > 1 ? ' (and more)' : ''}; nothing changed`,
          { warnings },
        );
      // A dry run also previews which flows the batch would flip (src/engine/impact/impact.ts),
      // on a snapshot of this revision, after the lock is released.
      if (dryRun && changed.length > 0) {
        snapshot = fork
          ? { before: engine.fork(), after: fork }
          : snapshotForImpact(engine, changed, manager.now());
      }
      return {
        changes: changed,
        result: { diff, tests: outcomes, ruleWarnings: warnings },
        commit: !dryRun && changed.length > 0,
      };
    },
  );
  if (dryRun) {
    const taken = snapshot;
    const impact = taken ? await impactRunner(manager).preview(() => taken, {}) : undefined;
    return { dryRun: true, ...result, ...(impact ? { impact } : {}) };
  }
  return { revision: record?.revision ?? manager.revision, ...result };
}
