/**
 * One schema step. Its own module so that each migration-NNN file and the list in
 * migrations.ts import it without importing each other (no import loop).
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}
