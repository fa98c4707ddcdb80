import { z } from "zod";
import { toTraceparent } from "@shop/logging";
import { UnknownProductsError } from "../domain/errors.ts";
import type { QuotedProduct } from "../domain/pricing.ts";
import type { ProductCatalog } from "../domain/ports.ts";
import { GuardedUpstream, postJson, type UpstreamOptions } from "./circuit.ts";

const quoteAnswer = z.object({
  items: z.array(z.object({ id: z.string(), name: z.string(), price: z.number().int().nonnegative(), stock: z.number().int() })),
});

/** Only a 404 that names the missing products is a business answer; a bare 404 means a wrong route. */
const unknownProductsAnswer = z.object({ code: z.literal("NOT_FOUND"), missingProductIds: z.array(z.string()).min(1) });

/** The catalog's internal `POST /internal/v1/products/quote`, behind a circuit breaker. */
export class HttpProductCatalog implements ProductCatalog {
  private readonly upstream: GuardedUpstream<[string[]], QuotedProduct[]>;

  constructor(options: UpstreamOptions) {
    const url = new URL("/internal/v1/products/quote", options.baseUrl).toString();
    this.upstream = new GuardedUpstream(
      "catalog",
      async (productIds: string[]) => {
        const answer = await postJson(url, { productIds }, options, toTraceparent());
        if (answer.status === 200) {
          const parsed = quoteAnswer.safeParse(answer.body);
          if (!parsed.success) throw new Error(`catalog quote has an unexpected shape: ${parsed.error.message}`);
          return parsed.data.items;
        }
        const unknown = answer.status === 404 ? unknownProductsAnswer.safeParse(answer.body) : undefined;
        if (unknown?.success) throw new UnknownProductsError(unknown.data.missingProductIds);
        throw new Error(`catalog answered ${answer.status}`);
      },
      options,
    );
  }

  quote(productIds: string[]): Promise<QuotedProduct[]> {
    return this.upstream.call(productIds);
  }

  /** True while the breaker fails calls fast. */
  get circuitOpen(): boolean {
    return this.upstream.isOpen;
  }

  shutdown(): void {
    this.upstream.shutdown();
  }
}
