import { createServer } from 'node:http';
import { NewEvent } from '../../contracts/events';
import { announce, storedEvent } from '../payload';

/** Baseline: bare node:http, JSON in and out; with --zod it also validates with the same schema. */
const validate = process.argv.includes('--zod');

const server = createServer((req, res) => {
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
    const json = JSON.stringify({ data: storedEvent(body as Record<string, unknown>) });
    res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
    res.end(json);
  });
});
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
