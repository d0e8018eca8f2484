/**
 * The policy engine (pure): identities, selector cache, compiled per-identity policy,
 * verdicts with explanations, deltas and per-host state — and the impact analyses
 * built on it. Code outside src/engine/ imports the engine only through this file.
 *
 * Where things are (docs/adr/0026-engine-facets.md):
 * - engine.ts — the `Engine` façade;
 * - state/ — the shared state and the document index (validation of batches);
 * - identity/ — identity numbers, the selector cache and its guard indexes;
 * - compile/ — compiled rules, port/address tables, resolved sides, routes;
 * - apply/ — batches: re-derivation, invalidation, the delta;
 * - verdict/ — `check`, the fast path and its pair cache, §2.2 defaults;
 * - hosts/ — per-host state for the distribution feed;
 * - warnings/ — rules that can never decide; impact/ — what a batch would flip.
 *
 * @example
 *   import { Engine } from './engine/index.js';
 *   const engine = new Engine();
 *   engine.load(documents, Date.now());
 *   engine.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 });
 */
export { Engine, type EngineOptions, type RecordState } from './engine.js';
export { MODEL_VALIDATION } from './apply/apply-batch.js';
export type { DocumentDiff } from './apply/diff-batch.js';
export type { HeldDocument } from './state/document-index.js';
export type { HostViewDelta, HostViewRecord, IdentityHostState } from './hosts/host-view.js';
export {
  impactSteps,
  previewImpact,
  type ImpactEndpoint,
  type ImpactOptions,
  type ImpactPreview,
  type ImpactRow,
} from './impact/impact.js';
export { whoCanReach, type ReachEntry } from './impact/who-can-reach.js';
export type * from './types.js';
