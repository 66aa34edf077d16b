import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFixture } from './fixture';

describe('the docs', () => {
  const { app } = createFixture();

  it('/docs/ is Swagger UI titled by the spec, and its script loads the spec the app serves', async () => {
    const page = await request(app).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>t</title>');
    expect(page.text).toContain('swagger-ui-init.js');

    const script = await request(app).get('/docs/swagger-ui-init.js');
    expect(script.status).toBe(200);
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
});
