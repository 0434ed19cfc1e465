// The sync() helper against a stand-in server: a copy made from scratch
// over two pages, then brought up to date by a delta with a change and a
// deletion, then rebuilt when its token is too old (410).
import assert from "node:assert/strict";
import { test } from "node:test";
import { reliefClient, syncKey, type LocalCopy, type SyncItem } from "./client";

const article = "deep-tissue-massage-for-back-pain";

function item(type: SyncItem["type"], id: string, body?: string): SyncItem {
  return body === undefined
    ? { type, id, article, lang: "en", deleted: true }
    : { type, id, article, lang: "en", deleted: false, url: `/x/${id}`, data: { id, position: 1, title: id, body, readability: { word_count: 2, reading_time_minutes: 1 } } };
}

/** A fetch that answers each `sync_token` (or none) with a canned page. */
function server(pages: Record<string, { status?: number; body: unknown }>, asked: string[]): typeof fetch {
  return async (input: RequestInfo | URL) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const token = url.searchParams.get("sync_token") ?? "";
    asked.push(token);
    const page = pages[token];
    assert.ok(page, `no page for token ${token}`);
    const status = page.status ?? 200;
    return new Response(JSON.stringify(page.body), {
      status,
      headers: { "content-type": status === 200 ? "application/json" : "application/problem+json" },
    });
  };
}

test("a copy is made from scratch over pages, then takes a delta's changes and deletions", async () => {
  const asked: string[] = [];
  const api = reliefClient("http://api.test", server({
    "": { body: { items: [item("benefit", "a", "one"), item("benefit", "b", "two")], next_page_token: "p2" } },
    p2: { body: { items: [item("faq", "c", "three")], next_sync_token: "s1" } },
    s1: { body: { items: [item("benefit", "a", "one, corrected"), item("faq", "c")], next_sync_token: "s2" } },
  }, asked));

  const copy = await api.sync();
  assert.deepEqual([...copy.items.keys()].sort(), [
    `benefit/${article}/en/a`, `benefit/${article}/en/b`, `faq/${article}/en/c`,
  ]);
  assert.equal(copy.token, "s1");

  await api.sync(copy);
  assert.equal(copy.token, "s2");
  assert.equal(copy.items.size, 2, "the deleted FAQ is gone");
  const a = copy.items.get(syncKey({ type: "benefit", article, lang: "en", id: "a" }));
  assert.deepEqual(a?.data, { id: "a", position: 1, title: "a", body: "one, corrected", readability: { word_count: 2, reading_time_minutes: 1 } });
  assert.deepEqual(asked, ["", "p2", "s1"]);
});

test("a token the server no longer knows rebuilds the copy from scratch", async () => {
  const asked: string[] = [];
  const api = reliefClient("http://api.test", server({
    old: { status: 410, body: { type: "about:blank", title: "Gone", status: 410, detail: "sync from scratch" } },
    "": { body: { items: [item("benefit", "b", "two")], next_sync_token: "s9" } },
  }, asked));
  const copy: LocalCopy = { items: new Map([["stale", item("benefit", "x", "gone by now")]]), token: "old" };
  await api.sync(copy);
  assert.deepEqual([...copy.items.keys()], [`benefit/${article}/en/b`]);
  assert.equal(copy.token, "s9");
  assert.deepEqual(asked, ["old", ""]);
});
