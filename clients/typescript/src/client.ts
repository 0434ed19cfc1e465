// A typed client for relief-api. Every path, parameter and body type comes
// from src/schema.d.ts, which openapi-typescript generates from the API's
// OpenAPI document (`npm run generate`); calls go through openapi-fetch.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Article = components["schemas"]["Article"];
export type NewReply = components["schemas"]["NewReply"];
export type ReplyReceipt = components["schemas"]["ReplyReceipt"];
export type Reply = components["schemas"]["Reply"];
export type SearchHit = components["schemas"]["SearchHit"];
/** An error body (RFC 9457), with field errors on a 422. */
export type Problem = components["schemas"]["Problem"];

/** A request the API refused: its status and problem details. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
  }
}

export function reliefClient(baseUrl: string, fetchImpl: typeof fetch = fetch) {
  const client = createClient<paths>({ baseUrl, fetch: fetchImpl });

  /** Unwraps an openapi-fetch answer: the data, or an ApiProblem. */
  function ok<T>(answer: { data?: T; error?: unknown; response: Response }): T {
    if (answer.data === undefined) {
      throw new ApiProblem(answer.response.status, answer.error as Problem | undefined);
    }
    return answer.data;
  }

  return {
    /** The raw openapi-fetch client, for any other operation. */
    raw: client,

    /** The whole article, in `lang` if it has that translation. */
    async article(slug: string, lang?: string): Promise<Article> {
      const query = lang === undefined ? {} : { lang };
      // Without `fields` the answer is the whole article, not a selection.
      return ok(await client.GET("/v1/articles/{slug}", { params: { path: { slug }, query } })) as Article;
    },

    /** The article's approved replies, oldest first. */
    async replies(slug: string, limit = 20, offset = 0): Promise<Reply[]> {
      const answer = await client.GET("/v1/articles/{slug}/replies", {
        params: { path: { slug }, query: { limit, offset } },
      });
      return ok(answer).items;
    },

    /**
     * Posts a reply for moderation. The idempotency key makes retries safe:
     * send the same key with the same reply, and it is stored once.
     */
    async postReply(slug: string, reply: NewReply, idempotencyKey: string = crypto.randomUUID()): Promise<ReplyReceipt> {
      return ok(
        await client.POST("/v1/articles/{slug}/replies", {
          params: { path: { slug }, header: { "Idempotency-Key": idempotencyKey } },
          body: reply,
        }),
      );
    },

    /** Searches every article and part. */
    async search(q: string): Promise<SearchHit[]> {
      return ok(await client.GET("/v1/search", { params: { query: { q } } })).items;
    },
  };
}
