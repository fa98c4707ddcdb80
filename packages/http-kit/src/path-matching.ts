import { Router, type Request } from "express";
import { ValidationError } from "@shop/errors";
import { MethodNotAllowedError } from "./request-errors.ts";

export interface RouteAddress {
  method: string;
  path: string;
}

function canDecode(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

/**
 * The raw (still percent-encoded) parameters of `routePath` in `requestPath`, matching segment by
 * segment like Express does for whole-segment `:name` parameters (case-insensitive, one trailing
 * slash allowed); null when the shapes differ.
 */
function rawParamsOf(routePath: string, requestPath: string): Record<string, string> | null {
  const expected = routePath.split("/");
  const actual = (requestPath.length > 1 && requestPath.endsWith("/") ? requestPath.slice(0, -1) : requestPath).split("/");
  if (expected.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < expected.length; i++) {
    const pattern = expected[i]!;
    const segment = actual[i]!;
    if (/^:[A-Za-z0-9_]+$/.test(pattern)) {
      if (segment === "") return null;
      params[pattern.slice(1)] = segment;
    } else if (pattern.toLowerCase() !== segment.toLowerCase()) {
      return null;
    }
  }
  return params;
}

/**
 * Express decodes path parameters while matching and fails with a bare URIError on bad
 * percent-encoding (`/products/%ff`), before any handler knows which parameter it was. Checked
 * first, so the 400 names the parameter. A path no route has is left alone (404).
 */
export function percentEncodingGuard(routes: readonly RouteAddress[]): Router {
  const paths = [...new Set(routes.map((route) => route.path))];
  const router = Router();
  router.use((req, _res, next) => {
    if (req.path.split("/").every(canDecode)) return next();
    for (const path of paths) {
      const params = rawParamsOf(path, req.path);
      if (!params) continue;
      const issues = Object.entries(params)
        .filter(([, raw]) => !canDecode(raw))
        .map(([name]) => ({ field: `path.${name}`, message: "is not valid percent-encoded UTF-8" }));
      if (issues.length) return next(new ValidationError(issues));
    }
    next();
  });
  return router;
}

/**
 * Mounted after the routes: a request whose path matches a route but whose method matches none
 * gets 405 with `Allow` (OPTIONS gets 204 with `Allow`); a path no route matches falls through to 404.
 */
export function methodNotAllowedFallback(routes: readonly RouteAddress[]): Router {
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const methods = methodsByPath.get(route.path) ?? new Set<string>();
    methods.add(route.method.toUpperCase());
    if (route.method.toLowerCase() === "get") methods.add("HEAD"); // Express answers HEAD with the GET handler
    methodsByPath.set(route.path, methods);
  }
  // Several patterns may match one path (`/products/top` and `/products/:id`): their methods add up.
  const allowedFor = new WeakMap<Request, Set<string>>();
  const router = Router();
  for (const [path, methods] of methodsByPath) {
    router.all(path, (req, _res, next) => {
      const allowed = allowedFor.get(req) ?? new Set<string>();
      for (const method of methods) allowed.add(method);
      allowedFor.set(req, allowed);
      next();
    });
  }
  router.use((req, res, next) => {
    const allowed = allowedFor.get(req);
    if (!allowed) return next();
    const allow = [...allowed, "OPTIONS"].sort();
    if (req.method === "OPTIONS") return void res.status(204).set("allow", allow.join(", ")).end();
    next(new MethodNotAllowedError(req.method, allow));
  });
  return router;
}
