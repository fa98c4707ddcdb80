import { z } from "zod";
import { batchedLookup } from "@shop/batching";
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

/** The most products the catalog prices in one call (its MAX_QUOTE_PRODUCTS). */
const QUOTE_LIMIT = 50;
/** The most quote calls in flight at once; placements arriving meanwhile share the next one. */
const QUOTES_IN_FLIGHT = 2;

/**
 * The catalog's internal `POST /internal/v1/products/quote`, behind a circuit breaker. The quotes
 * of placements that arrive together are one call: every price still comes from a call made after
 * its placement asked, and under load the catalog answers one request for many orders. A shared
 * call travels in the trace of the placement that started it.
 */
export class HttpProductCatalog implements ProductCatalog {
  private readonly upstream: GuardedUpstream<[string[]], QuotedProduct[]>;
  private readonly quoteProduct = batchedLookup((productIds: string[]) => this.quoteKnown(productIds), {
    maxBatchSize: QUOTE_LIMIT,
    maxInFlight: QUOTES_IN_FLIGHT,
  });

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

  /** The products, in the order asked; any unknown one fails the quote, naming every unknown one. */
  async quote(productIds: string[]): Promise<QuotedProduct[]> {
    const quoted = await Promise.all(productIds.map((id) => this.quoteProduct(id)));
    const missing = productIds.filter((_, i) => !quoted[i]);
    if (missing.length) throw new UnknownProductsError(missing);
    return quoted as QuotedProduct[];
  }

  /**
   * One call for products of several placements. The catalog refuses a call naming an unknown
   * product, so the others are asked for again: one placement's unknown product fails only it.
   */
  private async quoteKnown(productIds: string[]): Promise<Map<string, QuotedProduct>> {
    try {
      return new Map((await this.upstream.call(productIds)).map((product) => [product.id, product]));
    } catch (error) {
      if (!(error instanceof UnknownProductsError)) throw error;
      const unknown = new Set(error.missingProductIds);
      const known = productIds.filter((id) => !unknown.has(id));
      if (known.length === productIds.length)
        throw new Error(`catalog named unknown products it was not asked for: ${error.missingProductIds.join(", ")}`, { cause: error });
      return known.length ? this.quoteKnown(known) : new Map();
    }
  }

  /** True while the breaker fails calls fast. */
  get circuitOpen(): boolean {
    return this.upstream.isOpen;
  }

  shutdown(): void {
    this.upstream.shutdown();
  }
}
