import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { listContracts } from '../../runtime/contract';
import { createApp, createLogger } from '../../runtime/server';
import { syntheticApi } from '../generator';

/**
 * The runtime serving N synthetic operations (`--routes N`, bench/generator.ts's), no database:
 * prints how long building the app took and the time since the process started once it listens.
 */
const count = Number(process.argv[process.argv.indexOf('--routes') + 1] ?? 500);
const loaded = performance.now();
const api = syntheticApi(count);
const routes = listContracts(api).map(({ endpoint }) => ({
  endpoint,
  handler: () => ({ id: '1', name: 'n', size: 1, createdAt: new Date().toISOString() }),
}));
const built = performance.now();
const app = createApp({
  routes,
  services: {},
  api,
  openapi: {},
  auth: { secret: randomBytes(32), issuer: 'bench', audience: 'bench' },
  cursorSecret: randomBytes(32),
  log: createLogger({ level: 'warn' }),
  corsOrigins: [],
});
const created = performance.now();
const server = createServer(app);
server.listen(0, '127.0.0.1', () => {
  const listening = performance.now();
  process.stdout.write(
    `${JSON.stringify({ routes: routes.length, importMs: loaded, contractsMs: built - loaded, createAppMs: created - built, listeningMs: listening })}\n`,
  );
  server.close();
});
