import { createLogger } from "@shop/logging";

/** Tests log only warnings and errors unless TEST_LOG_LEVEL says otherwise. */
export const silentLogger = createLogger("test", (process.env.TEST_LOG_LEVEL as "warn" | undefined) ?? "error");
