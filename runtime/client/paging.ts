import type { Page, RequestInput } from './types.js';

export async function* iteratePages<T>(
  fetchPage: (input: RequestInput) => Promise<Page<T>>,
  input: RequestInput,
): AsyncGenerator<Page<T>, void, undefined> {
  let next = input;
  for (;;) {
    const page = await fetchPage(next);
    yield page;
    const { nextCursor, hasMore } = page.page;
    if (!hasMore || nextCursor === null) return;
    next = { ...input, query: { ...input.query, cursor: nextCursor } };
  }
}

export async function* iterateItems<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<T, void, undefined> {
  for await (const page of pages) yield* page.data;
}
