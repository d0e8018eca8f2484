/**
 * The web UI (docs/web.md): the bundle Vite builds into `dist/web` at install time,
 * served by the manager itself — `GET /` is the app, `GET /assets/{file}` its
 * content-hashed scripts and styles. Public routes (the page holds no data; every `/v1`
 * call it makes carries the signed-in token), under the same security headers and
 * strict CSP as the API. Two routes and a file read, not a static-file plugin: the
 * bundle is two kinds of file in one folder, and the manager's start-up stays cheap.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { VnpError } from '../../model/errors.js';

/**
 * Where the build writes the bundle: `<repo>/dist/web`, three levels up from this
 * module both as source (src/server/routes) and compiled (dist/server/routes).
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../dist/web', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** A bundle file name: no separators, no dot-dot (path traversal has nowhere to go). */
const ASSET = '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$';

function notBuilt(root: string): VnpError {
  return new VnpError(
    'VNP_ERR_ROUTE_NOT_FOUND',
    `the web UI is not built (no ${root}/index.html): run npm run build`,
  );
}

/**
 * Web UI routes. Without a built bundle, `GET /` answers 404 saying how to build it.
 *
 * @example
 *   await app.register(webUiRoutes, { root: DEFAULT_WEB_ROOT });
 */
export const webUiRoutes: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  const hidden = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get('/', hidden, async (_request, reply) => {
    const index = join(root, 'index.html');
    if (!existsSync(index)) throw notBuilt(root);
    return reply.type('text/html; charset=utf-8').send(await readFile(index));
  });
  app.get(
    '/assets/:file',
    {
      ...hidden,
      schema: {
        hide: true,
        params: Type.Object(
          { file: Type.String({ pattern: ASSET }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { file } = request.params as { file: string };
      const type = TYPES[extname(file)];
      const path = join(root, 'assets', file);
      if (type === undefined || !existsSync(path))
        throw new VnpError('VNP_ERR_NOT_FOUND', `no web UI asset ${file}`, { field: 'file' });
      return reply.type(type).send(await readFile(path));
    },
  );
};
