// Browser tests: the reader page and Swagger UI, in Debian's chromium
// (headless, through playwright-core; never a downloaded browser), against
// a live server. Each test saves a screenshot in SCREENSHOTS.
//
//   BASE_URL=http://127.0.0.1:18081 MODERATOR_TOKEN=... SCREENSHOTS=dir node run.mjs
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.BASE_URL ?? "http://127.0.0.1:8080";
const token = process.env.MODERATOR_TOKEN;
const screenshots = process.env.SCREENSHOTS ?? "screenshots";
const slug = "deep-tissue-massage-for-back-pain";
mkdirSync(screenshots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const failures = [];

async function test(name, body) {
  const page = await browser.newPage({ viewport: { width: 430, height: 932 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  try {
    await body(page);
    assert.deepEqual(errors, [], "the page logged errors");
    console.log(`ok   ${name}`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}\n${error.stack ?? error}`);
  } finally {
    await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    await page.screenshot({ path: join(screenshots, `${name}.top.png`) });
    await page.close();
  }
}

await test("reader-page-shows-the-article-and-an-approved-reply", async (page) => {
  const response = await page.goto(`${base}/articles/${slug}`);
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), "Back Pain Relief With Deep Tissue Massage");
  assert.match(await page.locator(".reading-time").textContent(), /^\d+ min read$/);
  assert.equal(await page.locator("section[aria-labelledby=benefits] ol > li").count(), 7);
  assert.equal(await page.locator("section[aria-labelledby=precautions] ol > li").count(), 5);
  assert.equal(await page.locator("section[aria-labelledby=faqs] dt").count(), 4);
  const jsonld = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
  assert.ok(jsonld["@graph"].some((node) => node["@type"] === "FAQPage"));

  // A reader reads a while, then leaves a reply; it awaits moderation
  // (stored as pending, not as spam), then appears once approved.
  await page.waitForTimeout(3500);
  const text = `Stretching after the massage helped me (${Date.now()})`;
  await page.fill("#author_name", "Browser Reader");
  await page.fill("#body", text);
  await page.click("#reply-form button[type=submit]");
  const status = page.locator("#reply-status");
  await status.filter({ hasText: "awaits moderation" }).waitFor();
  const id = await status.getAttribute("data-reply-id");
  const stored = await (await fetch(`${base}/v1/moderation/replies/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  })).json();
  assert.equal(stored.status, "pending", "a person's reply is not taken for spam");
  await page.reload();
  assert.equal(await page.getByText(text).count(), 0, "a pending reply is not shown");

  const approved = await fetch(`${base}/v1/moderation/replies/${id}`, {
    method: "PATCH",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ status: "approved" }),
  });
  assert.equal(approved.status, 200);
  // The page listens to /v1/events: the approved reply appears without a reload.
  await page.getByText(text).waitFor({ timeout: 10000 });

  // A moderator takes it back: it goes from the open page, again without a reload.
  const rejected = await fetch(`${base}/v1/moderation/replies/${id}`, {
    method: "PATCH",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ status: "rejected" }),
  });
  assert.equal(rejected.status, 200);
  await page.getByText(text).waitFor({ state: "detached", timeout: 10000 });
  await page.goto(`${base}/articles/${slug}`);
});

await test("a-reloaded-page-is-the-browsers-own-copy-and-its-form-still-posts", async (page) => {
  await page.goto(`${base}/articles/${slug}`);
  const stamp = () => page.locator("input[name=form_token]").getAttribute("value");
  const served = await stamp();
  // A second or more later the server would make the page with a new
  // timestamp; a reload is answered 304, so the browser shows its copy.
  await page.waitForTimeout(1500);
  await page.reload();
  assert.equal(await stamp(), served, "the reload was answered 304, not with a new page");
  await page.waitForTimeout(2000);
  await page.fill("#author_name", "Browser Reader");
  await page.fill("#body", `Read it twice (${Date.now()})`);
  await page.click("#reply-form button[type=submit]");
  const status = page.locator("#reply-status");
  await status.filter({ hasText: "awaits moderation" }).waitFor();
  const id = await status.getAttribute("data-reply-id");
  const stored = await (await fetch(`${base}/v1/moderation/replies/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  })).json();
  assert.equal(stored.status, "pending", "the reloaded form's timestamp is still good");
});

await test("reader-withdraws-a-reply-with-its-edit-token", async (page) => {
  await page.goto(`${base}/articles/${slug}`);
  await page.waitForTimeout(3500);
  await page.fill("#author_name", "Browser Reader");
  await page.fill("#body", `On second thought, no (${Date.now()})`);
  await page.click("#reply-form button[type=submit]");
  const status = page.locator("#reply-status");
  await status.filter({ hasText: "awaits moderation" }).waitFor();
  const id = await status.getAttribute("data-reply-id");
  await page.click("#withdraw-reply");
  await status.filter({ hasText: "withdrawn" }).waitFor();
  const gone = await fetch(`${base}/v1/moderation/replies/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(gone.status, 404, "the withdrawn reply is deleted");
});

await test("front-page-links-browsers-to-the-reader-page", async (page) => {
  await page.goto(`${base}/`);
  await page.click(`a[href="/articles/${slug}"]`);
  await page.waitForURL(`**/articles/${slug}`);
});

await test("swagger-ui-lists-every-operation-and-runs-one", async (page) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  const spec = await (await fetch(`${base}/openapi.json`)).json();
  const operations = Object.values(spec.paths).flatMap((item) =>
    ["get", "post", "put", "patch", "delete"].filter((method) => item[method]).map((method) => item[method]),
  );
  await page.goto(`${base}/docs/`);
  await page.locator(".opblock").first().waitFor();
  // The webhooks (OpenAPI 3.1) are listed too, after the paths.
  const webhooks = Object.values(spec.webhooks ?? {}).flatMap((item) => Object.values(item));
  assert.ok(webhooks.length >= 5, "the webhooks are documented");
  assert.equal(await page.locator(".opblock").count(), operations.length + webhooks.length);
  for (const operation of operations) {
    assert.equal(
      await page.locator(`[id$="-${operation.operationId}"]`).count(),
      1,
      `${operation.operationId} is listed`,
    );
  }

  // A new user changes nothing: the required slug comes filled from its
  // example, optional parameters stay empty, and the whole article comes back.
  const block = page.locator('[id$="-article_view"]');
  await block.locator(".opblock-summary").click();
  await block.getByRole("button", { name: "Try it out" }).click();
  assert.equal(await block.locator('input[placeholder="slug"]').inputValue(), slug);
  const prefilled = await block.locator(".parameters").evaluate((table) => [
    ...[...table.querySelectorAll("input, textarea")]
      .filter((input) => input.value && input.placeholder !== "slug")
      .map((input) => input.placeholder),
    ...[...table.querySelectorAll("select")].flatMap((select) =>
      [...select.selectedOptions].map((option) => option.value).filter((value) => value && value !== "--"),
    ),
  ]);
  assert.deepEqual(prefilled, [], "no optional parameter is pre-filled");
  await block.getByRole("button", { name: "Execute" }).click();
  const live = block.locator(".live-responses-table .response");
  await live.first().waitFor();
  assert.equal((await live.first().locator(".response-col_status").textContent()).trim(), "200");
  assert.equal((await block.locator(".request-url pre").textContent()).trim(), `${base}/v1/articles/${slug}`);
  const shown = JSON.parse(await live.first().locator(".response-col_description pre").first().textContent());
  assert.equal(shown.title, "Back Pain Relief With Deep Tissue Massage");
  assert.equal(shown.benefits.items.length, 7, "all 7 benefits are shown");
  await block.locator(".live-responses-table").scrollIntoViewIfNeeded();
});

await test("swagger-ui-authorizes-a-moderator-with-a-bearer-token", async (page) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/docs/`);
  await page.locator(".opblock").first().waitFor();
  await page.locator(".auth-wrapper .authorize").click();
  const dialog = page.locator(".modal-ux");
  await dialog.locator("input").first().fill(token);
  await dialog.locator("button.authorize").click();
  await dialog.locator("button.btn-done").click();

  const block = page.locator('[id$="-moderation_reply_list"]');
  await block.locator(".opblock-summary").click();
  await block.getByRole("button", { name: "Try it out" }).click();
  await block.getByRole("button", { name: "Execute" }).click();
  const live = block.locator(".live-responses-table .response");
  await live.first().waitFor();
  assert.equal((await live.first().locator(".response-col_status").textContent()).trim(), "200");
  await block.locator(".live-responses-table").scrollIntoViewIfNeeded();
});

await browser.close();
console.log(`screenshots: ${screenshots}`);
if (failures.length) {
  console.log(`${failures.length} failed: ${failures.join(", ")}`);
  process.exit(1);
}
