import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { z } from 'zod';
import { api } from '../contracts';
import { Role } from '../contracts/users';
import { asyncapi, createRoutes, openapi } from '../generated/server';
import { ConfigError, createLogger, createMockApp, ListenError, loadConfig, serve, type App, type Running } from '../runtime/server';
import { ACCESS_TOKEN_TTL_SECONDS } from './auth/session-tokens';
import { ConfigSchema, logFormat, type Config } from './config';

/**
 * `npm run mock`: the Mundo Tango API answered from its contracts alone, for frontends to start on
 * before a handler exists. No database, no handler: the runtime's own app checks every request
 * as production does and makes up the answers (runtime/server/mock.ts). Register or log in to get
 * an access token the mock accepts; it names one mock user, with the roles of MOCK_ROLES.
 */
const MockConfigSchema = z.object({
  /** The same seed, the same answers. */
  MOCK_SEED: z.string().min(1).max(200).default('mundo-tango'),
  /** Roles of the mock user, comma-separated (`admin,moderator`), for the role-gated operations. */
  MOCK_ROLES: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    )
    .pipe(z.array(Role)),
});

type MockConfig = z.output<typeof MockConfigSchema>;

export function createMundoMock(config: Config, mock: MockConfig, log: Logger): App {
  return createMockApp({
    api,
    createRoutes,
    openapi,
    asyncapi,
    log,
    corsOrigins: config.CORS_ORIGINS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    mock: {
      seed: mock.MOCK_SEED,
      user: { roles: mock.MOCK_ROLES },
      tokens: {
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        ttlSeconds: ACCESS_TOKEN_TTL_SECONDS,
        accessTokenFields: ['accessToken'],
        lifetimeFields: ['expiresIn'],
      },
    },
  });
}

/** Serves the mock where `npm start` would serve the API (HOST, PORT), and says so in one line. */
export async function startMock(config: Config, mock: MockConfig, options: { log: Logger; handleSignals?: boolean }): Promise<Running> {
  // Anyone who knows the seed can sign its tokens, an admin's included: never where real clients come.
  if (config.NODE_ENV === 'production')
    throw new ConfigError('npm run mock is not for production: it answers made-up data to forgeable tokens (NODE_ENV=production)');
  const running = await serve(createMundoMock(config, mock, options.log), {
    port: config.PORT,
    host: config.HOST,
    log: options.log,
    handleSignals: options.handleSignals,
    timeouts: {
      headersMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestMs: config.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    maxConnectionsPerAddress: config.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    portSetting: 'PORT',
  });
  options.log.info(
    { url: running.url, seed: mock.MOCK_SEED, roles: mock.MOCK_ROLES },
    `Mundo Tango API MOCK listening on ${running.url}: answers are made up from the contracts, nothing is stored (docs at /docs)`,
  );
  return running;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const config = loadConfig(ConfigSchema);
    const mock = loadConfig(MockConfigSchema);
    await startMock(config, mock, {
      log: createLogger({ level: config.LOG_LEVEL, service: 'mundo-tango-mock', format: logFormat(config) }),
      handleSignals: true,
    });
  } catch (error) {
    console.error(error instanceof ConfigError || error instanceof ListenError ? error.message : error);
    process.exit(1);
  }
}
