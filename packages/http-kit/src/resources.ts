import type { Logger } from "@shop/logging";

/** How long one resource may take to close before `releaseAll()` moves on to the next. */
const RELEASE_TIMEOUT_MS = 10_000;

/**
 * What a service's `start()` acquired, released last-first. Every one is released even if another
 * fails to close or hangs, so one stuck dependency cannot keep the rest open.
 */
export class Resources {
  private readonly releases: [string, () => unknown][] = [];

  constructor(private readonly logger: Logger) {}

  add<T>(name: string, resource: T, release: (resource: T) => unknown): T {
    this.releases.push([name, () => release(resource)]);
    return resource;
  }

  async releaseAll(): Promise<void> {
    let firstError: Error | undefined;
    for (const [name, release] of this.releases.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          release(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${name} did not close within ${RELEASE_TIMEOUT_MS} ms`)), RELEASE_TIMEOUT_MS);
          }),
        ]);
      } catch (error) {
        this.logger.error({ err: error, resource: name }, "could not release a resource on stop");
        firstError ??= error instanceof Error ? error : new Error(String(error));
      } finally {
        clearTimeout(timer);
      }
    }
    if (firstError) throw firstError;
  }
}
