export { createServiceApp, checkReadiness, requestDurationHistogram, type ServiceAppOptions, type ReadinessCheck } from "./app.ts";
export { errorHandler, notFoundHandler, commonErrorStatuses } from "./errors.ts";
export { problem, sendProblem, type Problem } from "./problem.ts";
export { defineRoute, routerFor, openApiDocument, type RouteSpec, type HttpResult, type OpenApiInfo } from "./routes.ts";
export { listen, type RunningServer } from "./server.ts";
export * as schemas from "./schemas.ts";
export { Resources } from "./resources.ts";
