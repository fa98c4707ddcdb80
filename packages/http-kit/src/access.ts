import type { RequestHandler, Response } from "express";
import { AuthenticationError, IdentityProviderUnavailableError, type CallerAuthenticator } from "@shop/auth";
import { problem, sendProblem } from "./problem.ts";
import { timesSent } from "./raw-headers.ts";

/**
 * Who may call a route. No service trusts the network: whatever reaches it (through the gateway,
 * from another pod, over a desynchronised connection) gets no more than its own credentials allow.
 * - `public`: anyone (reads of the catalog and coupon campaigns);
 * - `user`: a user token whose subject is the path's `:userId`, or an admin's;
 * - `admin`: a user token with the admin role;
 * - `service`: a service credential from one of the route's `callers`.
 */
export type Access = "public" | "user" | "admin" | "service";

export interface AccessRule {
  access?: Access;
  /** Services allowed to call a `service` route, e.g. `["order"]`. */
  callers?: string[];
  method: string;
  path: string;
}

/**
 * The route's access: declared, or implied by the path so that a new route is protected by
 * default. A write that would be public by the path alone must say so explicitly.
 */
export function accessOf(route: AccessRule): Access {
  if (route.access) return route.access;
  if (route.path.startsWith("/internal/")) return "service";
  if (route.path.startsWith("/api/v1/admin/")) return "admin";
  if (route.path.includes("/:userId")) return "user";
  if (route.method === "get") return "public";
  throw new Error(`route ${route.method.toUpperCase()} ${route.path} must declare its access`);
}

const CHALLENGE = 'Bearer realm="shop"';

function refuseUnauthenticated(res: Response, authorization: string | undefined, detail: string): void {
  res.setHeader("www-authenticate", authorization ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE);
  sendProblem(res, problem(401, "UNAUTHORIZED", detail));
}

/** Two Authorization headers: node keeps the first, so whatever checked the second (a proxy) and this service could disagree on who calls. */
const refuseDuplicateCredentials: RequestHandler = (req, res, next) => {
  if (timesSent(req.rawHeaders, "authorization") > 1)
    return sendProblem(res, problem(400, "MALFORMED_REQUEST", "a request may carry one Authorization header only"));
  next();
};

/** Builds the per-route check; throws at start-up for a route whose access cannot be enforced. */
export function accessGuard(auth: CallerAuthenticator | undefined): (route: AccessRule) => RequestHandler | undefined {
  return (route) => {
    const check = callerCheck(auth, route);
    return check && ((req, res, next) => refuseDuplicateCredentials(req, res, () => check(req, res, next)));
  };
}

function callerCheck(auth: CallerAuthenticator | undefined, route: AccessRule): RequestHandler | undefined {
  const access = accessOf(route);
  if (access === "public") return undefined;
  if (!auth) throw new Error(`route ${route.method.toUpperCase()} ${route.path} needs credentials but the app has no authenticator`);
  if (access === "service") {
    const callers = new Set(route.callers ?? []);
    if (callers.size === 0) throw new Error(`service route ${route.path} must list its callers`);
    return (req, res, next) => {
      const authorization = req.headers.authorization;
      auth.service(authorization).then(
        (caller) => {
          if (!callers.has(caller.service)) return sendProblem(res, problem(403, "FORBIDDEN", "this service may not call this endpoint"));
          res.locals.caller = caller;
          next();
        },
        (error: unknown) => (error instanceof AuthenticationError ? refuseUnauthenticated(res, authorization, error.message) : next(error)),
      );
    };
  }
  return (req, res, next) => {
    const authorization = req.headers.authorization;
    auth.user(authorization).then(
      (identity) => {
        if (access === "admin" && !identity.isAdmin) return sendProblem(res, problem(403, "FORBIDDEN", "this endpoint requires the admin role"));
        if (access === "user" && identity.userId !== req.params.userId && !identity.isAdmin) {
          return sendProblem(res, problem(403, "FORBIDDEN", "a user may only act on their own resources"));
        }
        res.locals.identity = identity;
        next();
      },
      (error: unknown) => {
        if (error instanceof AuthenticationError) return refuseUnauthenticated(res, authorization, error.message);
        if (error instanceof IdentityProviderUnavailableError) {
          res.setHeader("retry-after", "5");
          return sendProblem(res, problem(503, "SERVICE_UNAVAILABLE", error.message));
        }
        next(error);
      },
    );
  };
}
