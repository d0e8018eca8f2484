/**
 * The version of vnp (client and manager are one package). A module of its own, with
 * no imports, so `vnp --version` loads nothing else; test/cli/version.test.ts keeps it
 * equal to package.json's.
 */
export const VERSION = '0.1.0';

/** The REST API's version: the `/v1` of every path. */
export const API_VERSION = 'v1';
