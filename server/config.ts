import { z } from 'zod';
import { parseTrustProxy } from '../runtime/server/trust-proxy';
import type { S3Location } from './services/media-files';

/** An unset variable and an empty one mean the same: not given. */
const unlessEmpty = <S extends z.ZodType>(schema: S) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
const port = z.coerce.number().int().min(0).max(65535);
const milliseconds = (min: number, fallback: number) => z.coerce.number().int().min(min).max(3_600_000).default(fallback);

/** Configuration, read once from the environment; `loadConfig` names any bad variable. */
export const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: port.default(3000),
    DATA_DIR: z.string().min(1).default('.data'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /** Put before every Redis key and channel, so deployments sharing one Redis stay apart. */
    REDIS_PREFIX: z
      .string()
      .regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters without spaces (e.g. "mt-staging:")')
      .default('mt:'),
    JWT_SECRET: z.string().optional(),
    /** Access-token keys, a JWK Set (runtime/server/keys.ts): rotation without signing anyone out, EdDSA/ES256 and a JWKS. */
    JWT_KEYS: z.string().optional(),
    JWT_ISSUER: z.string().min(1).default('https://api.mundotango.life'),
    JWT_AUDIENCE: z.string().min(1).default('mundo-tango'),
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(50 * 1024 * 1024)
      .default(100 * 1024),
    /** Keep uploads and media in this bucket of an S3-compatible service instead of DATA_DIR/media. */
    S3_BUCKET: unlessEmpty(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name (3–63 of a-z, 0-9, ".", "-")')),
    /** An S3-compatible service (MinIO, R2, Ceph…); AWS when unset. */
    S3_ENDPOINT: unlessEmpty(z.url({ protocol: /^https?$/ })),
    S3_REGION: z.string().min(1).default('us-east-1'),
    /** Both or neither; neither: the AWS SDK's default chain (environment, instance role). */
    S3_ACCESS_KEY_ID: unlessEmpty(z.string().min(1)),
    S3_SECRET_ACCESS_KEY: unlessEmpty(z.string().min(1)),
    /** Path-style URLs (endpoint/bucket/key); on by default with S3_ENDPOINT, as most compatible services want. */
    S3_FORCE_PATH_STYLE: unlessEmpty(z.enum(['true', 'false']).transform((value) => value === 'true')),
    /** What each user may store in uploaded media, in bytes (1 GiB by default). */
    MEDIA_QUOTA_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .default(1024 ** 3),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Send unexpected errors to Sentry (the deployment installs @sentry/node); unset: the log only. */
    SENTRY_DSN: unlessEmpty(z.url()),
    /** `json` lines, or `pretty` for a terminal; unset: pretty in development when standard output is a terminal, else json. */
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    /** Send OpenTelemetry traces by OTLP/HTTP to this collector (`<url>/v1/traces`); unset: tracing off. */
    OTEL_EXPORTER_OTLP_ENDPOINT: unlessEmpty(
      z
        .url({ protocol: /^https?$/, error: 'must be the collector’s OTLP/HTTP base URL (http://collector:4318)' })
        .refine((url) => !/[?#]/.test(url), 'must be a base URL without a query or fragment (`/v1/traces` is added to it)'),
    ),
    /** The collector's full traces URL, used as it is; it wins over OTEL_EXPORTER_OTLP_ENDPOINT (as in the OTLP exporter spec). */
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: unlessEmpty(
      z.url({ protocol: /^https?$/, error: 'must be the collector’s OTLP/HTTP traces URL (http://collector:4318/v1/traces)' }),
    ),
    /** The `service.name` of the traces. */
    OTEL_SERVICE_NAME: z.preprocess((value) => (value === '' ? undefined : value), z.string().max(255).default('mundo-tango-api')),
    /** A hop count or the proxies' addresses (IPs, CIDRs, loopback/linklocal/uniquelocal); never `true`. */
    TRUST_PROXY: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value.trim() === '') return undefined;
        try {
          return parseTrustProxy(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    /** Serve /metrics on a port of its own (and not on PORT). */
    METRICS_PORT: unlessEmpty(port),
    /** Where the metrics port listens; HOST when unset. */
    METRICS_HOST: unlessEmpty(z.string().min(1)),
    /** A bearer token /metrics requires (on METRICS_PORT, or on PORT when there is no METRICS_PORT). */
    METRICS_TOKEN: unlessEmpty(z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')),
    /** PostgreSQL: connections per instance, how long a request waits for a free one, and for one query's answer. */
    DB_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
    DB_CONNECT_TIMEOUT_MS: milliseconds(100, 5_000),
    DB_QUERY_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .refine((ms) => ms === 0 || ms >= 100, 'must be 0 (no timeout) or at least 100')
      .default(10_000),
    /** Backpressure: API requests in progress at once per instance (0: no bound), and how long a handler may take (0: no limit). */
    HTTP_MAX_CONCURRENT_REQUESTS: z.coerce.number().int().min(0).max(1_000_000).default(256),
    HTTP_HANDLER_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    /** How long a client may take to send a request's headers, and the whole request (body included). */
    HTTP_HEADERS_TIMEOUT_MS: milliseconds(1000, 10_000),
    HTTP_REQUEST_TIMEOUT_MS: milliseconds(1000, 30_000),
    /** How long an idle kept-alive connection stays open; above a load balancer's idle timeout when there is one. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: milliseconds(1000, 5_000),
    /** Open connections one address may hold; trusted proxies (TRUST_PROXY) are exempt; 0 turns the cap off. */
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(256),
    /** Real-time sockets one user (all sessions and devices) and one address may hold per instance. */
    REALTIME_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),
    REALTIME_MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
    /**
     * Sign-in with an OpenID Connect provider: all four or none. The issuer is discovered at
     * `<OIDC_ISSUER>/.well-known/openid-configuration`; the redirect URI is the app's, registered at
     * the provider, and the only one sign-ins are sent back to.
     */
    OIDC_ISSUER: unlessEmpty(
      z
        .url({ protocol: /^https?$/, error: 'must be the provider’s issuer URL (https://…)' })
        .max(1000)
        .refine((url) => !/[?#]/.test(url), 'must be the issuer URL without a query or fragment'),
    ),
    OIDC_CLIENT_ID: unlessEmpty(z.string().max(255)),
    OIDC_CLIENT_SECRET: unlessEmpty(z.string().max(1000)),
    OIDC_REDIRECT_URI: unlessEmpty(
      z
        .url({ error: 'must be an absolute URL (https://app.example/oidc/callback, or an app’s own scheme)' })
        .max(1000)
        .refine((url) => !url.includes('#'), 'must not have a fragment (RFC 6749 §3.1.2)')
        // The provider's answer is the query: one of the redirect URI's own would be lost.
        .refine((url) => !url.includes('?'), 'must not have a query'),
    ),
    /** An http:// OIDC_ISSUER in production (never wanted but for a provider on a private network); outside production http:// is allowed anyway. */
    OIDC_ALLOW_HTTP: unlessEmpty(z.enum(['true', 'false']).transform((value) => value === 'true')),
  })
  .superRefine((config, ctx) => {
    if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['HTTP_HEADERS_TIMEOUT_MS'],
        message: `must not exceed HTTP_REQUEST_TIMEOUT_MS (${config.HTTP_REQUEST_TIMEOUT_MS})`,
      });
    }
    if ((config.S3_ACCESS_KEY_ID === undefined) !== (config.S3_SECRET_ACCESS_KEY === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['S3_SECRET_ACCESS_KEY'], message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together' });
    }
    if (config.METRICS_PORT !== undefined && config.METRICS_PORT !== 0 && config.METRICS_PORT === config.PORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_PORT'],
        message: 'must differ from PORT (metrics are served on a port of their own)',
      });
    }
    const oidc = {
      OIDC_ISSUER: config.OIDC_ISSUER,
      OIDC_CLIENT_ID: config.OIDC_CLIENT_ID,
      OIDC_CLIENT_SECRET: config.OIDC_CLIENT_SECRET,
      OIDC_REDIRECT_URI: config.OIDC_REDIRECT_URI,
    };
    const missing = Object.entries(oidc)
      .filter(([, value]) => value === undefined)
      .map(([name]) => name);
    if (missing.length > 0 && missing.length < 4) {
      ctx.addIssue({
        code: 'custom',
        path: [missing[0]!],
        message: `OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URI go together: set ${missing.join(' and ')} too, or none of them`,
      });
    }
    if (config.OIDC_ISSUER?.startsWith('http:') && config.NODE_ENV === 'production' && config.OIDC_ALLOW_HTTP !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['OIDC_ISSUER'],
        message:
          'is http:// in production: use the provider’s https:// issuer, or set OIDC_ALLOW_HTTP=true to accept one on a private network',
      });
    }
  });

export type Config = z.output<typeof ConfigSchema>;

/** Who may read /metrics on the API port: nobody when they have a port of their own or no token guards them. */
/** How the logs are written: LOG_FORMAT, else readable lines for a developer at a terminal, JSON for everything else. */
export function logFormat(config: Config, terminal = process.stdout.isTTY === true): 'json' | 'pretty' {
  return config.LOG_FORMAT ?? (config.NODE_ENV === 'development' && terminal ? 'pretty' : 'json');
}

/** Where traces are sent by OTLP/HTTP, or undefined: tracing off. */
export function otlpTracesUrl(config: Config): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base && `${base.replace(/\/?$/, '/')}v1/traces`;
}

export function metricsOnApiPort(config: Config): 'off' | { token: string } {
  return config.METRICS_PORT === undefined && config.METRICS_TOKEN !== undefined ? { token: config.METRICS_TOKEN } : 'off';
}

/** Where uploads and media go when S3_BUCKET is set. */
export function s3Location(config: Config): S3Location | undefined {
  if (!config.S3_BUCKET) return undefined;
  return {
    bucket: config.S3_BUCKET,
    region: config.S3_REGION,
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
    ...(config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } }
      : {}),
    forcePathStyle: config.S3_FORCE_PATH_STYLE ?? config.S3_ENDPOINT !== undefined,
  };
}

/** The OpenID Connect provider to sign in with, when OIDC_* configure one. */
export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  /** Normalized (`new URL(…).href`): sent in the authorization and token requests, compared with callbacks. */
  redirectUri: string;
}

export function oidcSettings(config: Config): OidcSettings | undefined {
  const { OIDC_ISSUER: issuer, OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: clientSecret, OIDC_REDIRECT_URI: redirectUri } = config;
  if (!issuer || !clientId || !clientSecret || !redirectUri) return undefined;
  return { issuer: new URL(issuer), clientId, clientSecret, redirectUri: new URL(redirectUri).href };
}
