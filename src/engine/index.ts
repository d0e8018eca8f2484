/**
 * The policy engine (pure): identities, selector cache, compiled per-identity policy,
 * verdicts with explanations, deltas and per-host state.
 *
 * @example
 *   import { Engine } from './engine/index.js';
 *   const engine = new Engine();
 *   engine.load(documents, Date.now());
 *   engine.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 });
 */
export { Engine, type EngineOptions, type RecordState } from './engine.js';
export type * from './types.js';
