/**
 * Which methods each route path answers, collected as routes are added, so
 * that a known path asked with another method answers 405 with `Allow`
 * (RFC 9110 §15.5.6) instead of 404.
 */
export class RouteMethods {
  readonly #routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  /** Fastify's `onRoute`: one route (`/v1/entities/:id`) and its method(s). */
  add(url: string, methods: string | string[]): void {
    let route = this.#routes.get(url);
    if (!route) {
      route = { pattern: pathPattern(url), methods: new Set() };
      this.#routes.set(url, route);
    }
    for (const method of [methods].flat()) route.methods.add(method.toUpperCase());
  }

  /** The methods some route answers on this path, sorted; empty when no route has the path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.#routes.values()) {
      if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    }
    return [...methods].sort();
  }
}

/** `/v1/entities/:id` → /^\/v1\/entities\/[^/]+$/ (and `*` → anything). */
function pathPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}
