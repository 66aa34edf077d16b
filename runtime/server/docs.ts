import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { RequestHandler } from 'express';
import swaggerUi from 'swagger-ui-express';

/** The folder of the assets swagger-ui-express serves: its own copy of swagger-ui-dist. */
const assetsDir = () => {
  const fromExpress = createRequire(createRequire(import.meta.url).resolve('swagger-ui-express'));
  return dirname(fromExpress.resolve('swagger-ui-dist/package.json'));
};

/**
 * Swagger UI at /docs: the page loads the spec from /openapi.json (relative, so a mounted app's
 * prefix holds) instead of carrying it in its script, keeps the token given to Authorize across
 * reloads, and its large assets are sent compressed.
 */
export function docsHandlers(title: string): RequestHandler[] {
  const page = swaggerUi.setup(undefined, {
    customSiteTitle: title,
    swaggerUrl: '../openapi.json',
    swaggerOptions: { persistAuthorization: true, tryItOutEnabled: true, displayRequestDuration: true },
  });
  return [compressedAssets, ...(swaggerUi.serve as RequestHandler[]), page as RequestHandler];
}

/** The assets worth compressing (1.7 MB of script → 0.4 MB with brotli); the others are small. */
const LARGE: Record<string, string> = {
  '/swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  '/swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  '/swagger-ui.css': 'text/css; charset=utf-8',
};

type Encoding = 'br' | 'gzip';
/** Compressed once per process, on first request (~0.1 s for the bundle), shared by every app. */
const compressed = new Map<string, Promise<Buffer>>();
const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

function compress(file: string, encoding: Encoding): Promise<Buffer> {
  const key = `${encoding} ${file}`;
  let result = compressed.get(key);
  if (!result) {
    result = readFile(join(assetsDir(), file)).then((bytes) =>
      encoding === 'br' ? brotli(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 6 } }) : gzipped(bytes, { level: 9 }),
    );
    // A failure is not kept: the next request tries again (and express.static serves this one).
    result.catch(() => compressed.delete(key));
    compressed.set(key, result);
  }
  return result;
}

/** Chooses brotli, else gzip, as the client accepts them (q=0 refuses one). */
export function acceptedEncoding(header: string | undefined): Encoding | undefined {
  const accepted = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const weight = (name: Encoding) => accepted.get(name) ?? (accepted.has('*') ? accepted.get('*')! : 0);
  if (weight('br') > 0) return 'br';
  if (weight('gzip') > 0) return 'gzip';
  return undefined;
}

const compressedAssets: RequestHandler = (req, res, next) => {
  const type = LARGE[req.path];
  const encoding = acceptedEncoding(req.headers['accept-encoding']);
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !type || !encoding) return next();
  compress(req.path.slice(1), encoding).then(
    (body) => {
      res.setHeader('Content-Type', type);
      res.setHeader('Content-Encoding', encoding);
      res.vary('Accept-Encoding');
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.setHeader('Content-Length', body.length);
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    () => next(),
  );
};
