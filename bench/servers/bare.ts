import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { NewEvent } from '../../contracts/events';
import { createCursorCodec } from '../../runtime/server/cursor';
import { securityHeaders } from '../../runtime/server/security-headers';
import { announce, bearerChecker, eventPage, nextKey, storedEvent } from '../payload';

/**
 * Baseline: bare node:http, JSON in and out, checks written by hand; with --zod the POST body is
 * validated with the same schema. GET /api/v1/events?limit=N answers a page of events; GET
 * /api/v1/events/{id} needs a bearer token (jose, HS256).
 *
 * `--wire`: the same, sending what this runtime sends on the wire: helmet's headers, a request id,
 * Server-Timing, Vary, the charset, and on a page a signed cursor and its Link header. The cost of
 * those bytes alone, with no routing, validation, logging or metrics: the most this runtime could
 * reach with its default headers on.
 */
const validate = process.argv.includes('--zod');
const wire = process.argv.includes('--wire');
const bearerValid = bearerChecker();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const cursors = createCursorCodec(randomBytes(32));
const plainCursor = Buffer.from(JSON.stringify(nextKey)).toString('base64url');
const security = securityHeaders();

function send(res: ServerResponse, status: number, value: unknown, link?: string) {
  const started = performance.now();
  const json = JSON.stringify(value);
  if (!wire) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
    res.end(json);
    return;
  }
  const headers = [
    ...security,
    'Vary',
    'Origin',
    'X-Request-Id',
    randomUUID(),
    'Server-Timing',
    `app;dur=${(performance.now() - started).toFixed(2)}`,
    'Content-Type',
    'application/json; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(json)),
  ];
  if (link) headers.push('Link', link);
  res.writeHead(status, headers);
  res.end(json);
}

const server = createServer((req, res) => {
  const [path, query = ''] = (req.url ?? '/').split('?');
  if (req.method === 'GET' && path === '/api/v1/events') {
    const limit = Number(new URLSearchParams(query).get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return send(res, 400, {});
    const cursor = wire ? cursors.encode(nextKey, 'listEvents') : plainCursor;
    const link = wire ? `</api/v1/events?limit=${limit}&cursor=${cursor}>; rel="next"` : undefined;
    return send(res, 200, { data: eventPage.slice(0, limit), page: { nextCursor: cursor, hasMore: true } }, link);
  }
  if (req.method === 'GET' && path?.startsWith('/api/v1/events/')) {
    if (!UUID.test(path.slice('/api/v1/events/'.length))) return send(res, 404, {});
    bearerValid(req.headers.authorization).then((valid) => (valid ? send(res, 200, { data: eventPage[0] }) : send(res, 401, {})));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (validate) {
      const parsed = NewEvent.safeParse(body);
      if (!parsed.success) {
        res.writeHead(400).end();
        return;
      }
      body = parsed.data;
    }
    send(res, 201, { data: storedEvent(body as Record<string, unknown>) });
  });
});
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
