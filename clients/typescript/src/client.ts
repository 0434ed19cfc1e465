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
export type SyncItem = components["schemas"]["SyncItem"];
export type SyncPage = components["schemas"]["SyncPage"];
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

/**
 * A local copy of the content, kept up to date by `sync()`: every resource
 * (article, section, benefit, precaution, FAQ) by its key, and the token to
 * sync from next time. Plain data: store it as JSON between app launches
 * (`{ items: [...copy.items], token }`).
 */
export interface LocalCopy {
  items: Map<string, SyncItem>;
  token?: string;
}

/** A resource's key in a local copy: its type, article, language and id. */
export function syncKey(item: Pick<SyncItem, "type" | "article" | "lang" | "id">): string {
  return `${item.type}/${item.article}/${item.lang}/${item.id}`;
}

/**
 * Applies one page of a sync to `copy`: a created or changed resource
 * replaces what the copy had under its key, a deleted one is removed.
 */
export function applySyncPage(copy: LocalCopy, page: SyncPage): void {
  for (const item of page.items) {
    if (item.deleted) copy.items.delete(syncKey(item));
    else copy.items.set(syncKey(item), item);
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

    /**
     * Brings `copy` up to date: from scratch when it has no token, else
     * with what changed since its token, following every page, then keeps
     * the new token. A token the server no longer knows (410) empties the
     * copy and syncs from scratch. Returns the copy, changed in place.
     */
    async sync(copy: LocalCopy = { items: new Map() }): Promise<LocalCopy> {
      let token = copy.token;
      for (;;) {
        const query = token === undefined ? {} : { sync_token: token };
        const answer = await client.GET("/v1/sync", { params: { query } });
        if (answer.response.status === 410 && copy.token !== undefined) {
          copy.items.clear();
          delete copy.token;
          return this.sync(copy);
        }
        const page = ok(answer);
        applySyncPage(copy, page);
        if (page.next_sync_token != null) {
          copy.token = page.next_sync_token;
          return copy;
        }
        if (page.next_page_token == null) throw new Error("a sync page carries a token for what comes next");
        token = page.next_page_token;
      }
    },

    /** Searches every article and part. */
    async search(q: string): Promise<SearchHit[]> {
      return ok(await client.GET("/v1/search", { params: { query: { q } } })).items;
    },
  };
}
