import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pinned, startServer } from './http';

/**
 * Sign-in throughput, next to what argon2id alone allows on one core: login is bounded by the
 * password hash by design (OWASP parameters, m=19 MiB, t=2). Refresh needs no hash: it is a few
 * indexed writes and one JWT signature.
 */
const PASSWORD = 'a benchmark passphrase for tango';

export async function measureAuth(node: string, seconds: number) {
  const dir = mkdtempSync(join(tmpdir(), 'mundo-bench-'));
  const tokensFile = join(dir, 'tokens.json');
  const { child, port } = await startServer(node, 'bench/servers/mundo.ts', [tokensFile, '3000']);
  let results;
  try {
    const base = `http://127.0.0.1:${port}`;
    const login = await autocannon({
      url: `${base}/api/v1/auth/login`,
      method: 'POST',
      connections: 4,
      duration: seconds,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password: PASSWORD }),
    });

    const tokens = JSON.parse(readFileSync(tokensFile, 'utf8')) as string[];
    const refreshCount = tokens.length;
    const refresh = await autocannon({
      url: `${base}/api/v1/auth/refresh`,
      connections: 10,
      amount: refreshCount,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // Each refresh comes from an address of its own, as from many clients: refresh is rate-limited per address.
          setupRequest: (request) => ({
            ...request,
            headers: {
              ...request.headers,
              'x-forwarded-for': `10.${(tokens.length >> 16) & 255}.${(tokens.length >> 8) & 255}.${tokens.length & 255}`,
            },
            body: JSON.stringify({ refreshToken: tokens.pop() }),
          }),
        },
      ],
    });

    results = {
      loginPerSecond: login.requests.average,
      loginNon2xx: login.non2xx,
      loginP99Ms: login.latency.p99,
      refreshPerSecond: refreshCount / (refresh.duration || 1),
      refreshNon2xx: refresh.non2xx,
      refreshP99Ms: refresh.latency.p99,
    };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return { ...results, argon2PerSecond: await argon2Rate(node) };
}

/** The hash alone, measured on the same core as the server, after the server has stopped. */
async function argon2Rate(node: string): Promise<number> {
  const [command, args] = pinned(0, node, ['--import', 'tsx', 'bench/argon2-rate.ts']);
  const { stdout } = await promisify(execFile)(command, args);
  return Number(stdout.trim());
}
