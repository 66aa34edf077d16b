import express from 'express';
import { NewEvent } from '../../contracts/events';
import { announce, BENCH_PATH, storedEvent } from '../payload';

/** Stock Express 5: express.json() + the same Zod validation + res.json. */
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
const server = app.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
