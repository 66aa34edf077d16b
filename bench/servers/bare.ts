import { createServer } from 'node:http';
import { NewEvent } from '../../contracts/events';
import { announce, bearerChecker, eventPage, nextKey, storedEvent } from '../payload';

/**
 * Baseline: bare node:http, JSON in and out, checks written by hand; with --zod the POST body is
 * validated with the same schema. GET /api/v1/events?limit=N answers a page of events; GET
 * /api/v1/events/{id} needs a bearer token (jose, HS256).
 */
const validate = process.argv.includes('--zod');
const bearerValid = bearerChecker();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const cursor = Buffer.from(JSON.stringify(nextKey)).toString('base64url');

function send(res: import('node:http').ServerResponse, status: number, value: unknown) {
  const json = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

const server = createServer((req, res) => {
  const [path, query = ''] = (req.url ?? '/').split('?');
  if (req.method === 'GET' && path === '/api/v1/events') {
    const limit = Number(new URLSearchParams(query).get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return send(res, 400, {});
    return send(res, 200, { data: eventPage.slice(0, limit), page: { nextCursor: cursor, hasMore: true } });
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
