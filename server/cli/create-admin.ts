import { createAdmin } from './admin';

/** npm run create-admin -- --username <name> [--display-name "<name>"]: see admin.ts. */
process.exitCode = await createAdmin(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
