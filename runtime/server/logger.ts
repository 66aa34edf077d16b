import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * JSON-lines logs through pino. Nothing that could hold a secret is logged by the runtime
 * (no headers, bodies or query strings); the redaction below guards what handlers add.
 */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'mundo-tango-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'refreshToken', '*.refreshToken', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
