/**
 * The limits of src/model/json-guard.ts applied once, to every request, before any
 * route sees it:
 *
 * - JSON bodies (`application/json`, `application/merge-patch+json`): depth checked on
 *   the text before parsing, then parsed by Fastify's own parser (prototype
 *   poisoning refused), then every string checked;
 * - path parameters and the query string: every string checked (`DELETE
 *   /v1/tokens/a%00b` is a 400 naming `id`, not a store error).
 *
 * Bodies of other types (Suricata's NDJSON) are checked where they are parsed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VnpError } from '../model/errors.js';
import { jsonDepthError, unstorableStringError } from '../model/json-guard.js';

type Parser = ReturnType<FastifyInstance['getDefaultJsonParser']>;

function guardedJson(parse: Parser): Parser {
  return (request, body, done) => {
    const deep = jsonDepthError(body as string);
    if (deep) return done(deep, undefined);
    parse(request, body, (err, value) => {
      if (err) return done(err, undefined);
      const bad = unstorableStringError(value);
      if (bad) return done(bad, undefined);
      done(null, value);
    });
  };
}

/** Names a bad parameter `id` (not `params.id`), with where it was in the details. */
function checkStrings(values: unknown, where: 'params' | 'querystring'): void {
  const bad = unstorableStringError(values);
  if (!bad) return;
  throw new VnpError('VNP_ERR_VALIDATION', `${where} ${bad.message}`, {
    ...bad.details,
    in: where,
  });
}

/**
 * Install the JSON parsers and the parameter check on the root instance (before the
 * routes).
 *
 * @example installRequestGuard(app);
 */
export function installRequestGuard(app: FastifyInstance): void {
  const parse = guardedJson(app.getDefaultJsonParser('error', 'error'));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
  // RFC 7396 bodies are JSON too.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, parse);
  app.addHook('preValidation', (request: FastifyRequest, _reply, done) => {
    try {
      checkStrings(request.params, 'params');
      checkStrings(request.query, 'querystring');
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
}
