// The reader page's "Leave a Reply" form: posts the reply to the API as
// JSON (with an Idempotency-Key, so a retry after a lost answer stores it
// once) and says what happened, without leaving the page. (Without
// JavaScript the form posts to the page, which does the same.) Served from this origin: the page's CSP
// allows no inline or third-party script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("reply-form");
  if (!form) return;
  const status = document.getElementById("reply-status");
  let key = crypto.randomUUID();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const reply = { author_name: data.get("author_name"), body: data.get("body") };
    const email = data.get("author_email");
    if (email) reply.author_email = email;
    const button = form.querySelector("button");
    button.disabled = true;
    status.textContent = "Sending…";
    try {
      const response = await fetch(form.dataset.api, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(reply),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 202) {
        status.textContent = "Thank you. Your reply awaits moderation and will appear once it is approved.";
        status.dataset.replyId = String(answer.id);
        form.reset();
        key = crypto.randomUUID();
      } else if (response.status === 422 && answer.errors) {
        status.textContent = answer.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
      } else {
        status.textContent = answer.detail || `The reply was not sent (HTTP ${response.status}).`;
      }
    } catch {
      status.textContent = "The reply could not be sent; check your connection and try again.";
    } finally {
      button.disabled = false;
    }
  });

  // Live: when a moderator approves a reply to this article, the replies
  // section is fetched anew (the page renders it) and swapped in, without
  // a reload. EventSource reconnects by itself, resuming after the last event.
  const replies = document.querySelector("section.replies");
  const api = form.dataset.api;
  if (!replies || !api || !window.EventSource) return;
  const article = api.split("/")[3];
  const events = new EventSource("/v1/events");
  events.addEventListener("reply.approved", async (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!event.data || event.data.article !== article) return;
    const response = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-cache" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.querySelector("section.replies");
    if (fresh) replies.replaceChildren(...fresh.childNodes);
  });
});
