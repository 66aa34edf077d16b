import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { MEDIA_TYPES } from '../contracts/media';
import { createLogger, createTokenSigner, sharedLimiters } from '../runtime/server';
import { createMundoApp } from '../server/app';
import { ConfigSchema } from '../server/config';
import { openDatabase, type Database } from '../server/db/database';
import { pinToCore0, stopChild, TASKSET } from './child-process';
import type { ClientCommand, ClientReply } from './uploads/client';

/**
 * npx tsx bench/uploads.ts [--size-mb 50] [--chunk-mb 8] [--rounds 3]
 *
 * Resumable uploads (tus) through the whole app against a plain file copy on the same disk, on
 * this machine, in one run. A `size-mb` MiB file (an MP4 `ftyp` box, then random bytes) is written
 * to a temp dir under os.tmpdir(); then, after one uncounted warm-up of each, `rounds` rounds of:
 *  1. fs.copyFile of it to the same dir, and a streamed copy (pipeline(createReadStream,
 *     createWriteStream)); neither is fsync'd, as the upload is not;
 *  2. an upload of the same bytes as video/mp4 with the runtime's `uploadResumable`
 *     (runtime/client/upload.ts) over loopback in `chunk-mb` MiB PATCHes, to the real app
 *     (createMundoApp on an in-memory PGlite, media dir in the same temp dir, a signed-in user,
 *     the quota raised, rate limits lifted) on http.createServer, timed in the client from the
 *     first request (the creation POST) to the final PATCH's answer (the stored medium); then the
 *     stored file is downloaded from /api/v1/media/{id}/file and its sha256 compared with the
 *     source's (a figure from a broken upload is worthless), and the medium deleted.
 * While each upload runs, this (the server's) process's RSS is sampled every 50 ms: its peak
 * growth shows whether the server streams the body to disk or buffers it. The CPU time of both
 * processes during each upload is printed too (the server's counts all its threads: the file
 * writes of libuv's threads, in the kernel mostly, included). `node --cpu-prof --import tsx
 * bench/uploads.ts …` writes a CPU profile of each process.
 *
 * This process (app, PGlite, the copies, libuv's file threads) runs on core 0; the client is a
 * process of its own (bench/uploads/client.ts) on core 1 (taskset, when there are two cores), and
 * holds the whole file in memory as a Uint8Array. Figures are measurements of this one run, not
 * pass/fail thresholds.
 */
const MiB = 1024 * 1024;
const FTYP = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '50' },
    'chunk-mb': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
  },
});

const positive = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${value}`);
  return n;
};
const maxMiB = MEDIA_TYPES['video/mp4'].maxBytes / MiB;
const settings = {
  sizeBytes: Math.round(positive('size-mb', values['size-mb']) * MiB),
  chunkBytes: Math.round(positive('chunk-mb', values['chunk-mb']) * MiB),
  rounds: positive('rounds', values.rounds),
};
if (!Number.isSafeInteger(settings.rounds)) throw new Error(`--rounds must be a whole number, got ${values.rounds}`);
if (settings.sizeBytes > MEDIA_TYPES['video/mp4'].maxBytes)
  throw new Error(`--size-mb may be at most ${maxMiB} (the contract's video/mp4 limit)`);
if (settings.sizeBytes < FTYP.length) throw new Error(`--size-mb must make at least ${FTYP.length} bytes`);
if (settings.chunkBytes < 1) throw new Error('--chunk-mb must make at least one byte');

const sizeMiB = settings.sizeBytes / MiB;
const chunkMiB = settings.chunkBytes / MiB;
const command = `npx tsx bench/uploads.ts --size-mb ${sizeMiB} --chunk-mb ${chunkMiB} --rounds ${settings.rounds}`;
const began = performance.now();
const say = (line: string) => console.log(line);
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;

// The server here on core 0 (every thread, so that PGlite, libuv's file threads and the GC stay put), the client on core 1.
const pinnable = pinToCore0();

/** The app's warnings and errors, counted and kept out of the figures' lines. */
const problems = { count: 0, first: [] as string[] };
const log = createLogger({
  level: 'warn',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        problems.count++;
        if (problems.first.length < 3) problems.first.push(line.slice(0, 300));
      }
      done();
    },
  }),
});

/** The client process (bench/uploads/client.ts), one command at a time. */
function startClient() {
  const script = join(import.meta.dirname, 'uploads/client.ts');
  // `node --cpu-prof --import tsx bench/uploads.ts` profiles the client too.
  const profiling = process.execArgv.filter((flag) => flag.startsWith('--cpu-prof'));
  const argv = [process.execPath, ...profiling, '--import', 'tsx', script];
  const [file, args] = pinnable ? [TASKSET, ['-c', '1', ...argv]] : [process.execPath, argv.slice(1)];
  const child = spawn(file, args, { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async ask<T extends ClientReply['type']>(
      message: ClientCommand,
      answer: T,
      timeoutMs = 120_000,
    ): Promise<Extract<ClientReply, { type: T }>> {
      const reply = new Promise<ClientReply>((resolve) => child.once('message', resolve));
      child.send(message);
      const timer = new AbortController();
      const gone = exit.then(() => {
        throw new Error(`the client process exited (${child.exitCode ?? child.signalCode}) before answering ${message.type}`);
      });
      const late = sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
        throw new Error(`no answer to ${message.type} from the client process within ${timeoutMs} ms`);
      });
      // Whichever loses the race settles later, unobserved.
      gone.catch(() => {});
      late.catch(() => {});
      try {
        const answered = await Promise.race([reply, gone, late]);
        if (answered.type === 'failed') throw new Error(`client: ${answered.message}`);
        if (answered.type !== answer) throw new Error(`the client answered ${answered.type} to ${message.type}`);
        return answered as Extract<ClientReply, { type: T }>;
      } finally {
        timer.abort();
      }
    },
    /** Asks it to leave; kills it when it has not within 5 s. */
    stop: () => stopChild(child, exit),
  };
}

/** Writes the source file (ftyp box, then random bytes) without holding it in memory; returns its sha256. */
async function writeSource(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  let written = 0;
  const write = (bytes: Buffer) =>
    new Promise<void>((resolve, reject) => {
      hash.update(bytes);
      out.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  await write(FTYP.subarray(0, size));
  written += Math.min(FTYP.length, size);
  while (written < size) {
    const n = Math.min(MiB, size - written);
    await write(randomBytes(n));
    written += n;
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return hash.digest('hex');
}

/** Peak RSS of this process while `work` runs, sampled every 50 ms, and the CPU time the process used meanwhile. */
async function watched<T>(work: () => Promise<T>) {
  const before = process.memoryUsage.rss();
  let peak = before;
  let samples = 0;
  const sample = () => {
    samples++;
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 50);
  const cpu = process.cpuUsage();
  try {
    const result = await work();
    const used = process.cpuUsage(cpu);
    return { result, before, peak, samples, cpuMs: cpuMsOf(used), systemMs: used.system / 1000 };
  } finally {
    clearInterval(timer);
    sample();
  }
}
const cpuMsOf = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

const timed = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mibps = (ms: number) => sizeMiB / (ms / 1000);
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

let tempDir: string | undefined;
let database: Database | undefined;
let closeApp: (() => Promise<void>) | undefined;
let client: ReturnType<typeof startClient> | undefined;
let server: ReturnType<typeof createServer> | undefined;
let cleaned: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleaned ??= (async () => {
    await client?.stop().catch(() => {});
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    await closeApp?.().catch(() => {});
    await database?.close().catch(() => {});
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  })();
  return cleaned;
}

// Ctrl-C: the temp dir is removed and the client stopped, not left behind.
process.once('SIGINT', () => {
  say('Interrupted: cleaning up');
  void cleanUp().then(() => process.exit(130));
});

const copies: number[] = [];
const streamed: number[] = [];
const uploads: { ms: number; requests: number; rssGrowth: number; cpuMs: number; clientCpuMs: number }[] = [];
const downloads: number[] = [];
let sourceHash = '';
let rssBeforeUploads = 0;
let peakOverall = 0;

try {
  say(
    `Uploads: a ${sizeMiB} MiB video/mp4 (ftyp box + random bytes) in ${chunkMiB} MiB chunks, ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} after one uncounted warm-up; ` +
      `Node ${process.version}; ${pinnable ? 'server (this process) on core 0, client process on core 1' : 'not pinned to cores (no taskset or one core)'}`,
  );
  tempDir = await mkdtemp(join(tmpdir(), 'mt-bench-uploads-'));
  const source = join(tempDir, 'source.mp4');
  const copiesDir = join(tempDir, 'copies');
  const mediaDir = join(tempDir, 'media');
  await mkdir(copiesDir);
  sourceHash = await writeSource(source, settings.sizeBytes);
  say(`  source written to ${tempDir} [${elapsed()}]`);

  const started = performance.now();
  database = await openDatabase({});
  say(`  in-memory PGlite opened and migrated in ${(performance.now() - started).toFixed(0)} ms`);
  const secret = randomBytes(32);
  const config = ConfigSchema.parse({
    NODE_ENV: 'production',
    JWT_SECRET: secret.toString('hex'),
    MEDIA_QUOTA_BYTES: String(settings.sizeBytes * 4),
  });
  // Rate limits lifted: any number of rounds may run (the app allows 200 uploads an hour).
  const limiters = sharedLimiters((options) => new RateLimiterMemory({ ...options, points: 1e9 }));
  const mundo = await createMundoApp({ config, database, secret, log, limiters, mediaDir });
  closeApp = mundo.close;
  const user = await mundo.services.userStore.create({
    username: 'uploader',
    displayName: 'Uploader',
    passwordHash: 'unused: never signs in',
  });
  if (user === 'taken') throw new Error('unreachable: a new database');
  const signer = createTokenSigner({ secret, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlSeconds: 3600 });
  const token = await signer.sign({ sub: user.id, roles: ['user'], sid: randomUUID() });
  server = createServer(mundo.app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  client = startClient();
  const loaded = await client.ask({ type: 'load', path: source }, 'loaded');
  if (loaded.sha256 !== sourceHash) throw new Error('the client read other bytes than were written');
  say(`  app on ${baseUrl}, client holds the ${sizeMiB} MiB in memory [${elapsed()}]`);

  const oneRound = async (counted: boolean) => {
    const copyMs = await timed(() => copyFile(source, join(copiesDir, 'copy')));
    const streamMs = await timed(() => pipeline(createReadStream(source), createWriteStream(join(copiesDir, 'streamed'))));
    await rm(join(copiesDir, 'copy'));
    await rm(join(copiesDir, 'streamed'));
    if (!counted) rssBeforeUploads = process.memoryUsage.rss();
    const up = await watched(() => client!.ask({ type: 'upload', baseUrl, token, chunkBytes: settings.chunkBytes }, 'uploaded'));
    peakOverall = Math.max(peakOverall, up.peak);
    const { mediaId, ms, requests, sizeBytes, mediaType, cpuMs: clientCpuMs } = up.result;
    if (sizeBytes !== settings.sizeBytes || mediaType !== 'video/mp4') {
      throw new Error(`the server stored a ${mediaType} of ${sizeBytes} bytes, not a video/mp4 of ${settings.sizeBytes}`);
    }
    const check = await client!.ask({ type: 'verify', baseUrl, token, mediaId }, 'verified');
    const ok = check.sha256 === sourceHash && check.bytes === settings.sizeBytes;
    say(
      `  ${counted ? `round ${uploads.length + 1}` : 'warm-up'}: copyFile ${copyMs.toFixed(0)} ms, streamed ${streamMs.toFixed(0)} ms, ` +
        `upload ${ms.toFixed(0)} ms (${requests} requests, CPU server ${up.cpuMs.toFixed(0)} ms (${up.systemMs.toFixed(0)} in the kernel) client ${clientCpuMs.toFixed(0)} ms, RSS +${mib(up.peak - up.before)} ` +
        `over ${up.samples} samples), download ${check.downloadMs.toFixed(0)} ms, ${ok ? 'hash ok' : 'HASH MISMATCH'} [${elapsed()}]`,
    );
    if (!ok) throw new Error(`the stored file is not the source: sha256 ${check.sha256} (${check.bytes} bytes), source ${sourceHash}`);
    if (!counted) return;
    copies.push(copyMs);
    streamed.push(streamMs);
    uploads.push({ ms, requests, rssGrowth: up.peak - up.before, cpuMs: up.cpuMs, clientCpuMs });
    downloads.push(check.downloadMs);
  };
  await oneRound(false);
  for (let round = 0; round < settings.rounds; round++) await oneRound(true);
} catch (error) {
  // What the app logged is usually why.
  if (problems.count > 0) say(`  the app logged ${problems.count} warnings or errors, first: ${problems.first.join(' | ')}`);
  throw error;
} finally {
  await cleanUp();
}

const figure = (name: string, ms: number[]) => ({ name, ms, median: mibps(median(ms)), best: mibps(Math.min(...ms)) });
const copy = figure('fs.copyFile', copies);
const stream = figure('streamed copy', streamed);
const api = figure(
  'API upload (tus)',
  uploads.map((u) => u.ms),
);
const width = Math.max(...[copy, stream, api].map((row) => row.name.length));

say('');
say(`Throughput of ${sizeMiB} MiB, ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} (MiB/s = 2^20 bytes per second):`);
say(`  ${'what'.padEnd(width)}  median MiB/s  best MiB/s  median ms`);
for (const f of [copy, stream, api]) {
  say(
    `  ${f.name.padEnd(width)}  ${f.median.toFixed(0).padStart(12)}  ${f.best.toFixed(0).padStart(10)}  ${median(f.ms).toFixed(0).padStart(9)}`,
  );
}
say(`  ratio API / fs.copyFile:   median ${(api.median / copy.median).toFixed(2)}×, best ${(api.best / copy.best).toFixed(2)}×`);
say(`  ratio API / streamed copy: median ${(api.median / stream.median).toFixed(2)}×, best ${(api.best / stream.best).toFixed(2)}×`);
const cpu = (pick: (u: (typeof uploads)[number]) => number) => {
  const ms = median(uploads.map(pick));
  return `${ms.toFixed(0)} ms = ${((ms / sizeMiB) * 1000).toFixed(0)} µs/MiB`;
};
say(
  `  upload: ${chunkMiB} MiB chunks, ${uploads[0]?.requests ?? 0} requests each (creation POST + PATCHes); median CPU per upload: ` +
    `server process ${cpu((u) => u.cpuMs)} (all its threads, on one core), client process ${cpu((u) => u.clientCpuMs)}, ` +
    `wall ${median(uploads.map((u) => u.ms)).toFixed(0)} ms`,
);
say(
  `  server RSS growth while uploading (sampled every 50 ms): at most +${mib(Math.max(...uploads.map((u) => u.rssGrowth)))} within a round, ` +
    `peak +${mib(peakOverall - rssBeforeUploads)} over the RSS before the warm-up upload; the file is ${sizeMiB} MiB, a chunk ${chunkMiB} MiB ` +
    `(the client process holds the whole file in memory as a Uint8Array; that is not counted here)`,
);
say(
  `  verification download (GET /api/v1/media/{id}/file, not timed as part of the upload): median ${mibps(median(downloads)).toFixed(0)} MiB/s`,
);
say(`  every stored file hash ok (sha256 ${sourceHash.slice(0, 16)}…)`);
if (problems.count > 0) say(`  the app logged ${problems.count} warnings or errors meanwhile, first: ${problems.first.join(' | ')}`);
say('');
say(`Whole run: ${elapsed()}. Re-run: ${command}`);
