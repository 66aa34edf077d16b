import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';

/**
 * An in-process S3 for tests of the S3 storage mode: no MinIO can run here, and s3rver lacks
 * ListParts, which @tus/s3-store needs. It answers what @aws-sdk/client-s3 sends and parses for the
 * object and multipart operations @tus/s3-store uses (PutObject, GetObject, HeadObject,
 * DeleteObject, DeleteObjects, CreateMultipartUpload, UploadPart, ListParts,
 * CompleteMultipartUpload, AbortMultipartUpload), path-style, one bucket, everything in memory.
 * Signatures are not checked, but body checksums are: a wrongly decoded body fails loudly, as on S3.
 * Anything else answers 501 NotImplemented rather than a plausible wrong answer.
 */
export interface FakeS3 {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** keys currently stored */
  keys(): string[];
  close(): Promise<void>;
}

interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  metadata: [string, string][];
  /** Base64 CRC32 of a PutObject body, sent back on GetObject so the SDK validates what it reads. */
  crc32?: string;
}

interface MultipartUpload {
  key: string;
  contentType: string;
  metadata: [string, string][];
  parts: Map<number, { body: Buffer; etag: string; lastModified: Date }>;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** S3 refuses to complete an upload whose parts, all but the last, are smaller than this. */
const MIN_PART_SIZE = 5 * 1024 * 1024;

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name[0] !== '#') return ENTITIES[name] ?? whole;
    return String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1)));
  });
/** The texts of every `<tag>` in `xml`: the SDK's request bodies are flat enough for this. */
const elements = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
const md5 = (data: Buffer) => createHash('md5').update(data).digest();

/** The checksums S3 verifies that Node can compute (CRC32C and CRC64NVME it cannot: those pass unchecked). */
const CHECKSUMS: Record<string, (data: Buffer) => string> = {
  'x-amz-checksum-crc32': (data) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(data));
    return out.toString('base64');
  },
  'x-amz-checksum-sha1': (data) => createHash('sha1').update(data).digest('base64'),
  'x-amz-checksum-sha256': (data) => createHash('sha256').update(data).digest('base64'),
  'content-md5': (data) => md5(data).toString('base64'),
};

/**
 * Undoes aws-chunked framing, `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` until a zero-size
 * chunk, then trailer lines (`x-amz-checksum-crc32:…`) and a blank line. The SDK frames every
 * stream body so (STREAMING-UNSIGNED-PAYLOAD-TRAILER), with its CRC32 in the trailer.
 */
function decodeAwsChunked(raw: Buffer): { body: Buffer; trailers: Map<string, string> } {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = eol < 0 ? '' : raw.toString('latin1', at, eol).split(';')[0]!;
    if (!/^[0-9a-f]+$/i.test(size)) throw new S3Error(400, 'IncompleteBody', 'Malformed aws-chunked body.');
    const length = Number.parseInt(size, 16);
    at = eol + 2;
    if (length === 0) break;
    if (raw.toString('latin1', at + length, at + length + 2) !== '\r\n') throw new S3Error(400, 'IncompleteBody', 'Truncated chunk.');
    chunks.push(raw.subarray(at, at + length));
    at += length + 2;
  }
  const trailers = new Map<string, string>();
  for (const line of raw.toString('latin1', at).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { body: Buffer.concat(chunks), trailers };
}

/** The request's payload with its framing removed and its declared checksums verified. */
function payload(req: IncomingMessage, raw: Buffer): { body: Buffer; crc32?: string } {
  const header = (name: string) => req.headers[name] as string | undefined;
  const sha256 = header('x-amz-content-sha256');
  const chunked = sha256?.startsWith('STREAMING-') || /aws-chunked/.test(header('content-encoding') ?? '');
  const { body, trailers } = chunked ? decodeAwsChunked(raw) : { body: raw, trailers: new Map<string, string>() };
  const declared = header('x-amz-decoded-content-length');
  if (declared !== undefined && Number(declared) !== body.length) {
    throw new S3Error(400, 'IncompleteBody', `Got ${body.length} bytes, x-amz-decoded-content-length says ${declared}.`);
  }
  if (sha256 && /^[0-9a-f]{64}$/.test(sha256) && createHash('sha256').update(body).digest('hex') !== sha256) {
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 does not match what was computed.');
  }
  for (const [name, compute] of Object.entries(CHECKSUMS)) {
    const expected = trailers.get(name) ?? header(name);
    if (expected !== undefined && compute(body) !== expected) {
      throw new S3Error(400, 'BadDigest', `The ${name} you specified did not match.`);
    }
  }
  return { body, crc32: trailers.get('x-amz-checksum-crc32') ?? header('x-amz-checksum-crc32') };
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` as inclusive offsets; S3 ignores a Range it does not parse (multiple ranges too). */
function parseRange(range: string | undefined, size: number): [number, number] | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(range?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1] === '' ? undefined : Number(match[1]), match[2] === '' ? undefined : Number(match[2])];
  if (first !== undefined && last !== undefined && last < first) return undefined;
  const [start, end] = first === undefined ? [size - Math.min(last!, size), size - 1] : [first, Math.min(last ?? size - 1, size - 1)];
  if (start >= size || (first === undefined && last === 0)) {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
  }
  return [start, end];
}

const etagMatches = (condition: string, etag: string) =>
  condition.split(',').some((tag) => tag.trim() === '*' || tag.trim().replace(/^W\//, '') === etag);

export async function startFakeS3(options: { bucket?: string } = {}): Promise<FakeS3> {
  const bucket = options.bucket ?? 'test-bucket';
  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, MultipartUpload>();
  // AWS answers AbortMultipartUpload of a just-completed upload with 204 (NoSuchUpload only hours
  // later), and @tus/s3-store's remove() aborts before deleting, even for a finished upload.
  const completed = new Set<string>();
  let endpoint = '';

  const xml = (res: ServerResponse, root: string, inner: string) => {
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NAMESPACE}">${inner}</${root}>`);
  };
  const uploadOf = (uploadId: string, key: string) => {
    const upload = uploads.get(uploadId);
    if (!upload || upload.key !== key) throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.');
    return upload;
  };

  function getObject(req: IncomingMessage, res: ServerResponse, key: string) {
    const object = objects.get(key);
    if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    const headers: Record<string, string | number> = {
      etag: object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      ...Object.fromEntries(object.metadata),
    };
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && !etagMatches(ifMatch, object.etag)) throw new S3Error(412, 'PreconditionFailed', 'If-Match failed.');
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, object.etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    const range = parseRange(req.headers.range, object.body.length);
    const body = range ? object.body.subarray(range[0], range[1] + 1) : object.body;
    if (range) headers['content-range'] = `bytes ${range[0]}-${range[1]}/${object.body.length}`;
    // Like S3, a checksum only for the whole object, and only when the SDK asks (x-amz-checksum-mode).
    if (!range && object.crc32 && req.headers['x-amz-checksum-mode'] === 'ENABLED') {
      Object.assign(headers, { 'x-amz-checksum-crc32': object.crc32, 'x-amz-checksum-type': 'FULL_OBJECT' });
    }
    res.writeHead(range ? 206 : 200, { ...headers, 'content-type': object.contentType, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function completeMultipartUpload(res: ServerResponse, key: string, uploadId: string, request: string) {
    const upload = uploadOf(uploadId, key);
    const listed = elements(request, 'Part').map((part) => ({
      number: Number(elements(part, 'PartNumber')[0]),
      etag: unescapeXml(elements(part, 'ETag')[0] ?? '').replace(/^"?(.*?)"?$/, '"$1"'),
    }));
    if (listed.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed.');
    if (listed.some(({ number }, i) => i > 0 && number <= listed[i - 1]!.number)) {
      throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
    }
    const parts = listed.map(({ number, etag }, i) => {
      const part = upload.parts.get(number);
      if (!part || part.etag !== etag) throw new S3Error(400, 'InvalidPart', `Part ${number} was not found or its ETag does not match.`);
      if (i < listed.length - 1 && part.body.length < MIN_PART_SIZE) {
        throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      }
      return part;
    });
    // A multipart ETag is the MD5 of the parts' binary MD5s, then a dash and the number of parts.
    const etag = `"${md5(Buffer.concat(parts.map((part) => md5(part.body)))).toString('hex')}-${parts.length}"`;
    const body = Buffer.concat(parts.map((part) => part.body));
    objects.set(key, { body, etag, lastModified: new Date(), contentType: upload.contentType, metadata: upload.metadata });
    uploads.delete(uploadId);
    completed.add(uploadId);
    const location = `${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    xml(res, 'CompleteMultipartUploadResult', `${tag('Location', location)}${tag('Bucket', bucket)}${tag('Key', key)}${tag('ETag', etag)}`);
  }

  function listParts(res: ServerResponse, key: string, uploadId: string, query: URLSearchParams) {
    const upload = uploadOf(uploadId, key);
    const marker = Number(query.get('part-number-marker') ?? 0);
    const maxParts = Number(query.get('max-parts') ?? 1000);
    const after = [...upload.parts].filter(([number]) => number > marker).sort(([a], [b]) => a - b);
    const page = after.slice(0, maxParts);
    const parts = page.map(
      ([number, part]) =>
        `<Part>${tag('PartNumber', number)}${tag('LastModified', part.lastModified.toISOString())}${tag('ETag', part.etag)}${tag('Size', part.body.length)}</Part>`,
    );
    const next = page.length > 0 ? page[page.length - 1]![0] : marker;
    const fields = {
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: next,
      MaxParts: maxParts,
    };
    const head = Object.entries(fields).map(([name, value]) => tag(name, value));
    xml(
      res,
      'ListPartsResult',
      `${head.join('')}${tag('IsTruncated', after.length > page.length)}${tag('StorageClass', 'STANDARD')}${parts.join('')}`,
    );
  }

  function deleteObjects(req: IncomingMessage, res: ServerResponse, request: string) {
    // S3 refuses a multi-object delete without an integrity header; the SDK always sends one.
    if (!req.headers['content-md5'] && !Object.keys(req.headers).some((name) => name.startsWith('x-amz-checksum-'))) {
      throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5');
    }
    const keys = elements(request, 'Object').map((object) => unescapeXml(elements(object, 'Key')[0] ?? ''));
    for (const key of keys) objects.delete(key);
    const quiet = elements(request, 'Quiet')[0] === 'true';
    xml(res, 'DeleteResult', quiet ? '' : keys.map((key) => `<Deleted>${tag('Key', key)}</Deleted>`).join(''));
  }

  function route(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const url = new URL(req.url ?? '/', 'http://fake-s3');
    const [, bucketName, ...path] = url.pathname.split('/');
    const key = decodeURIComponent(path.join('/'));
    if (bucketName !== bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const query = url.searchParams;
    const uploadId = query.get('uploadId');
    const metadata = Object.entries(req.headers).filter((entry): entry is [string, string] => entry[0].startsWith('x-amz-meta-'));
    const contentType = req.headers['content-type'] ?? 'binary/octet-stream';
    // S3 tells operations apart by method, bucket or object, and sub-resource parameters (the
    // SDK's `x-id` parameter only names the command): `PUT object?uploadId` is UploadPart.
    const op = `${req.method} ${key === '' ? 'bucket' : 'object'}${query.has('uploads') ? '?uploads' : ''}${query.has('delete') ? '?delete' : ''}${uploadId !== null ? '?uploadId' : ''}`;
    if (req.headers['x-amz-copy-source'] || (query.has('partNumber') && op !== 'PUT object?uploadId')) {
      throw new S3Error(501, 'NotImplemented', 'CopyObject, UploadPartCopy and part GETs are not faked.');
    }
    switch (op) {
      case 'PUT object': {
        const { body, crc32 } = payload(req, raw);
        const etag = `"${md5(body).toString('hex')}"`;
        objects.set(key, { body, etag, lastModified: new Date(), contentType, metadata, crc32 });
        res.writeHead(200, { etag, ...(crc32 ? { 'x-amz-checksum-crc32': crc32 } : {}) }).end();
        return;
      }
      case 'GET object':
      case 'HEAD object':
        return getObject(req, res, key);
      case 'DELETE object':
        objects.delete(key);
        res.writeHead(204).end();
        return;
      case 'POST bucket?delete':
        return deleteObjects(req, res, payload(req, raw).body.toString('utf8'));
      case 'POST object?uploads': {
        const id = randomBytes(24).toString('base64url');
        uploads.set(id, { key, contentType, metadata, parts: new Map() });
        xml(res, 'InitiateMultipartUploadResult', `${tag('Bucket', bucket)}${tag('Key', key)}${tag('UploadId', id)}`);
        return;
      }
      case 'PUT object?uploadId': {
        const upload = uploadOf(uploadId!, key);
        const number = Number(query.get('partNumber'));
        if (!Number.isInteger(number) || number < 1 || number > 10_000) {
          throw new S3Error(400, 'InvalidArgument', 'Part number must be 1 to 10000.');
        }
        const { body } = payload(req, raw);
        const etag = `"${md5(body).toString('hex')}"`;
        upload.parts.set(number, { body, etag, lastModified: new Date() });
        res.writeHead(200, { etag }).end();
        return;
      }
      case 'GET object?uploadId':
        return listParts(res, key, uploadId!, query);
      case 'POST object?uploadId':
        return completeMultipartUpload(res, key, uploadId!, payload(req, raw).body.toString('utf8'));
      case 'DELETE object?uploadId':
        if (!completed.has(uploadId!)) uploadOf(uploadId!, key);
        uploads.delete(uploadId!);
        res.writeHead(204).end();
        return;
      default:
        throw new S3Error(501, 'NotImplemented', `${op} is not faked.`);
    }
  }

  const server = createServer((req, res) => {
    // The whole body is read before answering, errors included: answering early would leave the
    // rest of the body on the SDK's keep-alive connection.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.setHeader('x-amz-request-id', randomBytes(8).toString('hex').toUpperCase());
      try {
        route(req, res, Buffer.concat(chunks));
      } catch (error) {
        const { status, code, message } =
          error instanceof S3Error
            ? error
            : error instanceof URIError
              ? new S3Error(400, 'InvalidURI', 'Could not decode the key.')
              : new S3Error(500, 'InternalError', String(error));
        // A HEAD answer has no body: the SDK then names the error after the status (404 → NotFound).
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(
          req.method === 'HEAD'
            ? undefined
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${tag('Code', code)}${tag('Message', message)}</Error>`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'fake-access-key', secretAccessKey: 'fake-secret-key' },
    keys: () => [...objects.keys()].sort(),
    close: async () => {
      // The SDK keeps its connections alive: close() alone would wait for them to time out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function tag(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}
