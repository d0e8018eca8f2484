/**
 * The judges by id: what `npm run bench` compares, buildable one at a time so each
 * can be measured in a process of its own.
 */
import type { Document } from '../src/model/types.js';
import { CasbinJudge } from './baselines/casbin.js';
import { CedarJudge } from './baselines/cedar.js';
import type { FlowJudge } from './baselines/judge.js';
import { ReferenceJudge } from './baselines/reference.js';
import { SeedJudge } from './baselines/seed.js';
import { loadVnp } from './vnp.js';

/** Every judge, in report order (vnp first). */
export const JUDGE_IDS = [
  'vnp-check',
  'vnp-verdict',
  'reference',
  'seed',
  'cedar',
  'casbin',
] as const;
export type JudgeId = (typeof JUDGE_IDS)[number];

/** Judges whose build takes minutes at 10,000 policies. */
export const SLOW_JUDGES: readonly JudgeId[] = ['cedar', 'casbin'];

/** A built judge. */
export interface BuiltJudge {
  judge: FlowJudge;
  /** True for vnp's own calls. */
  vnp: boolean;
}

/**
 * Builds one judge over the documents (the build is what the report's `build` column times).
 *
 * @example
 *   const { judge } = await buildJudge('cedar', model.documents);
 */
export async function buildJudge(id: JudgeId, docs: readonly Document[]): Promise<BuiltJudge> {
  switch (id) {
    case 'vnp-check':
      return { judge: loadVnp(docs).judges[0]!, vnp: true };
    case 'vnp-verdict':
      return { judge: loadVnp(docs).judges[1]!, vnp: true };
    case 'reference':
      return { judge: new ReferenceJudge(docs), vnp: false };
    case 'seed':
      return { judge: new SeedJudge(docs), vnp: false };
    case 'cedar':
      return { judge: new CedarJudge(docs), vnp: false };
    case 'casbin':
      return { judge: await CasbinJudge.create(docs), vnp: false };
  }
}

/**
 * Parses a judge id from the command line.
 *
 * @example
 *   judgeId('seed') // 'seed'
 */
export function judgeId(text: string): JudgeId {
  const id = JUDGE_IDS.find((j) => j === text);
  if (id === undefined) throw new Error(`unknown judge ${text}; known: ${JUDGE_IDS.join(', ')}`);
  return id;
}
