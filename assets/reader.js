// The reader page's "Leave a Reply" form: posts the form to the page
// asking for JSON (with an Idempotency-Key, so a retry after a lost answer
// stores it once), says what happened without leaving the page, and offers
// to withdraw the reply while its edit token holds. (Without JavaScript the
// form posts to the page, which answers with a page.) Served from this
// origin: the page's CSP allows no inline or third-party script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("reply-form");
  if (!form) return;
  const status = document.getElementById("reply-status");
  let key = crypto.randomUUID();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = "Sending…";
    try {
      // The form as the page takes it (with its honeypot and signed
      // timestamp), answered as the API answers.
      const response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "Idempotency-Key": key },
        body: new URLSearchParams(new FormData(form)),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 202) {
        status.textContent = "Thank you. Your reply awaits moderation and will appear once it is approved.";
        status.dataset.replyId = String(answer.id);
        if (answer.edit_token) offerWithdrawal(answer);
        form.querySelectorAll("input:not([type=hidden]), textarea").forEach((field) => { field.value = ""; });
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

  // For the 15 minutes its edit token holds, the author may withdraw the reply.
  function offerWithdrawal(receipt) {
    const withdraw = document.createElement("button");
    withdraw.type = "button";
    withdraw.id = "withdraw-reply";
    withdraw.textContent = "Withdraw my reply";
    const until = Date.parse(receipt.editable_until);
    setTimeout(() => withdraw.remove(), Math.max(0, until - Date.now()));
    withdraw.addEventListener("click", async () => {
      withdraw.disabled = true;
      const response = await fetch(`${form.dataset.api}/${receipt.id}`, {
        method: "DELETE",
        headers: { "Reply-Token": receipt.edit_token },
      }).catch(() => null);
      if (response && response.status === 204) {
        status.textContent = "Your reply is withdrawn.";
        withdraw.remove();
      } else {
        status.textContent = "The reply could not be withdrawn (its 15 minutes may be over).";
        withdraw.disabled = false;
      }
    });
    status.after(withdraw);
  }

  // Live: when a reply to this article is approved, or one shown is
  // removed, the replies section is fetched anew (the page renders it) and
  // swapped in, without a reload. EventSource reconnects by itself,
  // resuming after the last event.
  const replies = document.querySelector("section.replies");
  const api = form.dataset.api;
  if (!replies || !api || !window.EventSource) return;
  const article = api.split("/")[3];
  const events = new EventSource("/v1/events");
  const refresh = async (message) => {
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
  };
  events.addEventListener("reply.approved", refresh);
  events.addEventListener("reply.removed", refresh);
});
