/**
 * Migration 6 (additive): token lifecycle. `expires_at` (a token with a TTL, and the
 * old secret of a rotated token during its grace period) and `last_used_at` (written
 * in batches by the managers, at most about once a minute per token).
 */
import type { Migration } from './migration.js';

/** Columns `vnp_tokens.expires_at` and `vnp_tokens.last_used_at`. */
export const MIGRATION_006_TOKEN_LIFECYCLE: Migration = {
  version: 6,
  name: 'token expiry and last use',
  statements: [
    `ALTER TABLE vnp_tokens ADD COLUMN expires_at timestamptz`,
    `ALTER TABLE vnp_tokens ADD COLUMN last_used_at timestamptz`,
  ],
};
