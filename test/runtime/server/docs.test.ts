import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { acceptedEncoding } from '../../../runtime/server/docs';
import { createFixture } from './fixture';

const binary = (res: request.Response, callback: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
};

describe('the docs', () => {
  const { app } = createFixture();

  it('/docs/ is Swagger UI titled by the spec, and its script loads the spec the app serves', async () => {
    const page = await request(app).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>t</title>');
    expect(page.text).toContain('swagger-ui-init.js');

    const script = await request(app).get('/docs/swagger-ui-init.js');
    expect(script.status).toBe(200);
    // The token given to Authorize survives a reload; "Try it out" is on from the start.
    expect(script.text).toMatch(/"persistAuthorization": true/);
    expect(script.text).toMatch(/"tryItOutEnabled": true/);
    const url = /"swaggerUrl": "([^"]+)"/.exec(script.text)?.[1];
    expect(url).toBe('../openapi.json');
    // Resolved as the browser does against the page's address.
    const spec = await request(app).get(new URL(url!, 'http://host/docs/').pathname);
    expect(spec.status).toBe(200);
    expect(spec.body).toMatchObject({ openapi: '3.1.0', info: { title: 't' } });
  });

  it('/docs without the slash leads to the page', async () => {
    const res = await request(app).get('/docs');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/docs/');
  });

  it('the API root leads to the docs', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(302);
    expect(new URL(res.headers.location!, 'http://host/').pathname).toBe('/docs/');
  });

  it('sends the large assets compressed, as the client accepts, and whole otherwise', async () => {
    const dist = dirname(
      createRequire(createRequire(import.meta.url).resolve('swagger-ui-express')).resolve('swagger-ui-dist/package.json'),
    );
    const original = readFileSync(join(dist, 'swagger-ui-bundle.js'));

    const br = await request(app).get('/docs/swagger-ui-bundle.js').set('Accept-Encoding', 'gzip, deflate, br').buffer(true).parse(binary);
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    // What went over the wire: a third of the file; what the client reads (superagent decodes it): the file.
    expect(Number(br.headers['content-length'])).toBeLessThan(original.length / 3);
    expect((br.body as Buffer).equals(original)).toBe(true);

    const gz = await request(app).get('/docs/swagger-ui.css').set('Accept-Encoding', 'gzip').buffer(true).parse(binary);
    expect(gz.headers['content-encoding']).toBe('gzip');
    const css = readFileSync(join(dist, 'swagger-ui.css'));
    expect(Number(gz.headers['content-length'])).toBeLessThan(css.length / 3);
    expect((gz.body as Buffer).equals(css)).toBe(true);

    const plain = await request(app).get('/docs/swagger-ui-bundle.js').set('Accept-Encoding', 'identity').buffer(true).parse(binary);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect((plain.body as Buffer).equals(original)).toBe(true);
  });

  it.each([
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip;q=0.5', 'gzip'],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['identity', undefined],
    [undefined, undefined],
  ])('Accept-Encoding %s → %s', (header, expected) => {
    expect(acceptedEncoding(header)).toBe(expected);
  });
});
