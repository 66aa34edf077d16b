import { hashPassword, verifyPassword } from '../server/auth/password-hash';

/** argon2id verifications per second, one at a time, on whatever core this process is pinned to. */
const password = 'a benchmark passphrase for tango';
const hash = await hashPassword(password);
let verifications = 0;
const until = performance.now() + 3000;
while (performance.now() < until) {
  await verifyPassword(hash, password);
  verifications++;
}
process.stdout.write(`${verifications / 3}\n`);
