import { generateTokenKey, KEY_ALGORITHMS, type KeyAlgorithm } from '../../runtime/server/keys';

/**
 * npm run new-jwt-key [-- EdDSA|ES256|HS256]: prints a new private JWK for JWT_KEYS (EdDSA by
 * default). It goes to standard output only: keep it where the deployment's secrets are kept.
 */
const [alg = 'EdDSA', ...rest] = process.argv.slice(2);
if (rest.length > 0 || !KEY_ALGORITHMS.includes(alg as KeyAlgorithm)) {
  process.stderr.write(`Usage: npm run new-jwt-key [-- ${KEY_ALGORITHMS.join('|')}]\n`);
  process.exitCode = 2;
} else {
  process.stdout.write(`${JSON.stringify(await generateTokenKey(alg as KeyAlgorithm))}\n`);
}
