// Fetch the article and post a reply: `npx tsx src/example.ts` against a
// server on http://127.0.0.1:8080 (CI only type-checks it).
import { ApiProblem, reliefClient } from "./client";

const api = reliefClient("http://127.0.0.1:8080");
const slug = "deep-tissue-massage-for-back-pain";

const article = await api.article(slug);
console.log(`${article.title}: ${article.benefits.items.length} benefits`);
for (const faq of article.faqs.items) console.log(`Q: ${faq.question}`);

try {
  const receipt = await api.postReply(slug, { author_name: "Dana", body: "Thanks, this helped." });
  console.log(`reply ${receipt.id} is ${receipt.status}: it appears once a moderator approves it`);
} catch (error) {
  if (error instanceof ApiProblem) console.error(error.status, error.problem?.errors ?? error.message);
  else throw error;
}
