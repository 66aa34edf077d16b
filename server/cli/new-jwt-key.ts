import { generateTokenKey, KEY_ALGORITHMS, type KeyAlgorithm, secretAsJwk } from '../../runtime/server/keys';

/**
 * npm run new-jwt-key [-- EdDSA|ES256|HS256]: prints a new private JWK for JWT_KEYS (EdDSA by
 * default). `-- --from-secret` prints JWT_SECRET (from the environment) as a JWT_KEYS entry, to list
 * it while moving away from it. Standard output only: keep it where the deployment's secrets are kept.
 */
const args = process.argv.slice(2);
const usage = `Usage: npm run new-jwt-key [-- ${KEY_ALGORITHMS.join('|')}]   or   JWT_SECRET=… npm run new-jwt-key -- --from-secret\n`;
if (args[0] === '--from-secret' && args.length === 1) {
  const secret = process.env.JWT_SECRET;
  if (!secret) {
    process.stderr.write(`JWT_SECRET is not set.\n${usage}`);
    process.exitCode = 2;
  } else {
    process.stdout.write(`${JSON.stringify(secretAsJwk(Buffer.from(secret, 'utf8')))}\n`);
  }
} else if (args.length > 1 || (args[0] !== undefined && !KEY_ALGORITHMS.includes(args[0] as KeyAlgorithm))) {
  process.stderr.write(usage);
  process.exitCode = 2;
} else {
  process.stdout.write(`${JSON.stringify(await generateTokenKey((args[0] ?? 'EdDSA') as KeyAlgorithm))}\n`);
}
