/**
 * Named prepared statements on PGlite (src/store/sql/prepared.ts says which, and why).
 * PGlite's `query` sends every statement unnamed: parse, describe, bind, describe,
 * execute and sync, six calls into WebAssembly, and PostgreSQL parses and plans it each
 * time. Here a statement is parsed once under its name (its parameter types kept), and
 * each run is one call: bind, describe, execute, sync. After a few runs PostgreSQL keeps
 * a generic plan and stops planning it. Parameters are serialized and rows parsed by
 * PGlite's own serializers and parsers, as its `query` does.
 */
import { parse, protocol, type PGlite } from '@electric-sql/pglite';

const P = protocol.serialize;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs named statements on one PGlite session (serialized by the caller, like every use of it). */
export class PreparedStatements {
  /** Parameter type oids of each statement prepared on this session, by name. */
  private readonly types = new Map<string, number[]>();

  constructor(private readonly db: PGlite) {}

  /**
   * Run `text` as the prepared statement `name` (preparing it on first use); inside a
   * transaction it runs in that transaction, as any statement on the session.
   *
   * @example const { rows } = await prepared.query('vnp_bump_revision', Q.BUMP_REVISION, [7]);
   */
  async query<Row>(name: string, text: string, params: unknown[]): Promise<{ rows: Row[] }> {
    const types = this.types.get(name) ?? (await this.prepare(name, text));
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serialize = this.db.serializers[types[i]!];
      return serialize ? serialize(v) : String(v as string | number);
    });
    const { messages } = await this.db.execProtocol(
      concat([
        P.bind({ statement: name, values }),
        P.describe({ type: 'P' }),
        P.execute({}),
        P.sync(),
      ]),
    );
    return { rows: (parse.parseResults(messages, this.db.parsers)[0]?.rows ?? []) as Row[] };
  }

  /**
   * Parse `text` as `name`. A Close first: a statement left by a preparation whose
   * answer was lost is replaced (closing one that does not exist is no error).
   */
  private async prepare(name: string, text: string): Promise<number[]> {
    const { messages } = await this.db.execProtocol(
      concat([
        P.close({ type: 'S', name }),
        P.parse({ name, text }),
        P.describe({ type: 'S', name }),
        P.sync(),
      ]),
    );
    const types = parse.parseDescribeStatementResults(messages);
    this.types.set(name, types);
    return types;
  }
}
