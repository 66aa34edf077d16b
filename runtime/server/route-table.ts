/**
 * The precompiled route table: static paths are one Map lookup, parameterised paths are matched
 * segment by segment among the routes with the same number of segments.
 */
interface Pattern<R> {
  segments: { literal?: string; param?: string }[];
  byMethod: Map<string, R>;
}

export interface RouteMatch<R> {
  byMethod: Map<string, R>;
  params: Record<string, string>;
}

export class RouteTable<R> {
  private readonly statics = new Map<string, Map<string, R>>();
  private readonly patterns = new Map<number, Pattern<R>[]>();

  add(method: string, path: string, route: R): void {
    const parts = path.split('/').slice(1);
    if (!path.includes('{')) {
      const byMethod = this.statics.get(path) ?? new Map<string, R>();
      byMethod.set(method, route);
      this.statics.set(path, byMethod);
      return;
    }
    const segments = parts.map((p) => (p.startsWith('{') ? { param: p.slice(1, -1) } : { literal: p }));
    const list = this.patterns.get(segments.length) ?? [];
    let pattern = list.find((candidate) =>
      candidate.segments.every((s, i) => s.literal === segments[i]!.literal && !s.param === !segments[i]!.param),
    );
    if (!pattern) {
      pattern = { segments, byMethod: new Map() };
      list.push(pattern);
      // Literal segments win over parameters: /events/upcoming before /events/{eventId}.
      list.sort((a, b) => literalCount(b) - literalCount(a));
      this.patterns.set(segments.length, list);
    }
    pattern.byMethod.set(method, route);
  }

  /** Matches a path (no query string); throws URIError on a malformed percent-encoding. */
  match(rawPath: string): RouteMatch<R> | undefined {
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    const exact = this.statics.get(path);
    if (exact) return { byMethod: exact, params: {} };
    const parts = path.split('/');
    const candidates = this.patterns.get(parts.length - 1);
    if (!candidates) return undefined;
    outer: for (const pattern of candidates) {
      const params: Record<string, string> = {};
      for (let i = 0; i < pattern.segments.length; i++) {
        const segment = pattern.segments[i]!;
        const part = parts[i + 1]!;
        if (segment.param !== undefined) {
          if (part === '') continue outer;
          params[segment.param] = decodeURIComponent(part);
        } else if (segment.literal !== part) {
          continue outer;
        }
      }
      return { byMethod: pattern.byMethod, params };
    }
    return undefined;
  }
}

function literalCount(pattern: { segments: { literal?: string }[] }): number {
  return pattern.segments.filter((s) => s.literal !== undefined).length;
}
