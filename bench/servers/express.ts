import express from 'express';
import { z } from 'zod';
import { NewEvent } from '../../contracts/events';
import { PageQuery, Uuid } from '../../runtime/contract';
import { announce, BENCH_PATH, bearerChecker, eventPage, nextKey, storedEvent } from '../payload';

/** Stock Express 5: express.json() + the same Zod validation + res.json; jose for the bearer token. */
const bearerValid = bearerChecker();
const cursor = Buffer.from(JSON.stringify(nextKey)).toString('base64url');
const Params = z.object({ eventId: Uuid });
const app = express();
app.use(express.json());
app.post(BENCH_PATH, (req, res) => {
  const parsed = NewEvent.safeParse(req.body);
  if (!parsed.success) {
    res.status(400).json({ errors: parsed.error.issues });
    return;
  }
  res.status(201).json({ data: storedEvent(parsed.data) });
});
app.get(BENCH_PATH, (req, res) => {
  const query = PageQuery.safeParse(req.query);
  if (!query.success) {
    res.status(400).json({ errors: query.error.issues });
    return;
  }
  res.json({ data: eventPage.slice(0, query.data.limit), page: { nextCursor: cursor, hasMore: true } });
});
app.get(`${BENCH_PATH}/:eventId`, async (req, res) => {
  if (!Params.safeParse(req.params).success) {
    res.status(404).json({});
    return;
  }
  const valid = await bearerValid(req.headers.authorization);
  if (!valid) {
    res.status(401).json({});
    return;
  }
  res.json({ data: eventPage[0] });
});
const server = app.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
