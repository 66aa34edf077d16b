import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { docsServerForFile } from './docs-server';

/**
 * The docs as a new user meets them, in a real headless Chromium (Debian's, never one a tool
 * downloads): from the API's root to Swagger UI, then register → login → Authorize → createEvent →
 * listEvents with the values the page fills in itself. Any console error, failed or refused request
 * (a Content-Security-Policy block shows as both) fails it.
 *
 * Run by `npm run test:browser` (.ci/run does), not by `npm test`: a browser rendering the whole spec
 * costs seconds of CPU.
 */
const file = docsServerForFile();
let base: string;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  base = file.base;
  page = await file.browser.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    // Only the API's own answers may be 4xx (none is expected here); an asset must load.
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
});

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field by the assertions.
type Json = Record<string, any>;

/** Opens an operation, runs it with what the page filled in, and returns the API's answer. */
async function execute(tag: string, operationId: string): Promise<{ status: number; body: Json }> {
  const block = page.locator(`#operations-${tag}-${operationId}`);
  await block.locator('.opblock-summary').first().click();
  // "Try it out" is on from the start (tryItOutEnabled): the Execute button is there at once.
  const answer = page.waitForResponse(
    (response) => response.request().method() !== 'OPTIONS' && new URL(response.url()).pathname.startsWith('/api/'),
  );
  await block.locator('button.execute').click();
  const response = await answer;
  // What the page shows is what came back.
  await expect
    .poll(() => block.locator('.live-responses-table tbody .response-col_status').first().textContent())
    .toContain(String(response.status()));
  return { status: response.status(), body: (await response.json()) as Json };
}

describe('Swagger UI, tried as a new user would', () => {
  // A dozen page actions, each waiting for the page: seconds on a quiet machine, many more on a busy one.
  it('runs register → login → Authorize → createEvent → listEvents with the values it fills in', { timeout: 120_000 }, async () => {
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/docs/');
    await page.locator('#operations-auth-register').waitFor();
    expect(await page.title()).toBe('Mundo Tango API');

    const registered = await execute('auth', 'register');
    expect(registered.status).toBe(201);
    expect(registered.body.data.user.username).toBe('ana.milonguera');

    const signedIn = await execute('auth', 'login');
    expect(signedIn.status).toBe(200);
    const token = signedIn.body.data.accessToken as string;
    // One shape: the token is where register put it.
    expect(typeof token).toBe('string');
    expect(typeof registered.body.data.accessToken).toBe('string');

    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await expect.poll(() => dialog.textContent()).toContain('data.accessToken');
    await dialog.locator('input').first().fill(token);
    await dialog.locator('button.authorize').click();
    await dialog.locator('button.btn-done').click();

    const created = await execute('events', 'createEvent');
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ title: 'Milonga de los Jueves', organizerId: registered.body.data.user.id });

    const listed = await execute('events', 'listEvents');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((event: { id: string }) => event.id)).toContain(created.body.data.id);

    // The token given to Authorize survives a reload.
    await page.reload();
    await page.locator('#operations-auth-register').waitFor();
    const persisted = await page.evaluate(() => localStorage.getItem('authorized'));
    expect(persisted).toContain(token);

    expect(problems).toEqual([]);
  });
});
