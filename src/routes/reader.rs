//! Pages for people reading in a browser, rendered on the server from the
//! same content the API serves: `/articles/{slug}` (the article, its
//! approved replies and the reply form, which also works without
//! JavaScript) and the HTML face of `/`.
//!
//! Not part of the API, so not in the OpenAPI document. `maud` escapes
//! every value; the JSON-LD is embedded with `<` escaped, so no text can
//! close its script element.

use std::sync::{Arc, LazyLock};

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    middleware::{ErrorHandlerResponse, ErrorHandlers},
    web,
};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::{
    abuse::{ClientAddr, ReplyRateLimit},
    content::{Article, Group, Lang, LangPreference, Part, Section, Slug},
    error::ApiError,
    http::{
        cache::Caching,
        conditional::{stamped_match, stamped_tag},
        negotiation::language_ranges,
        problem,
        representation::Representation,
    },
    replies::{
        Database, Reply,
        db::Submission,
        guard::{self, FORM_TOKEN_FIELD, HONEYPOT_FIELD, Secret},
    },
    store::{LiveContent, Store},
    urls,
};

use super::{
    fallback::{self, reading},
    params::{ArticlePath, FormBody},
};

const HTML: &str = "text/html; charset=utf-8";
/// The page shows replies, which change without a content reload.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
/// The most replies the page shows.
const REPLIES_SHOWN: usize = 100;

/// The stylesheet and script of the pages, served from this origin.
pub static STYLESHEET: &str = include_str!("../../assets/reader.css");
pub static SCRIPT: &str = include_str!("../../assets/reader.js");

fn page(lang: &str, title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(urls::STYLESHEET);
                // No icon: say so, rather than have browsers ask for /favicon.ico.
                link rel="icon" href="data:,";
                (head)
            }
            body { main { (body) } }
        }
    }
}

/// Plain text whose paragraphs are separated by blank lines.
fn paragraphs(text: &str) -> Markup {
    html! {
        @for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            p { (paragraph) }
        }
    }
}

/// Where a part is on the page: every part can be linked to by its
/// collection and id, `#benefits-improves-posture`, `#sections-conclusion`.
fn anchor(collection: &str, id: &str) -> String {
    format!("{collection}-{id}")
}

/// A section of prose: its heading, if any, and its paragraphs.
fn prose(section: &Section) -> Markup {
    html! {
        section id=(anchor("sections", &section.id)) {
            @if let Some(heading) = &section.heading {
                h2 { (heading) }
            }
            (paragraphs(&section.body))
        }
    }
}

/// A numbered list (benefits, precautions): its heading, lead-in and items.
fn numbered<T: Part>(id: &str, group: &Group<T>) -> Markup {
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (group.heading.as_deref().unwrap_or_default()) }
            @if let Some(intro) = &group.intro {
                p { (intro) }
            }
            ol {
                @for item in &group.items {
                    li id=(anchor(id, item.id())) {
                        strong { (item.title()) } ": " (item.text())
                    }
                }
            }
        }
    }
}

/// What the reply form shows: what the reader typed, and what became of it.
#[derive(Debug, Default)]
struct FormState {
    author_name: String,
    author_email: String,
    body: String,
    /// A sentence for the reader: accepted, or what to fix.
    status: Option<String>,
    /// The signed timestamp of the page (see `replies::guard`).
    token: String,
}

/// What the page says once a reply sent without JavaScript is stored.
const AWAITS_MODERATION: &str =
    "Thank you. Your reply awaits moderation and will appear once it is approved.";

fn article_page(
    article: &Article,
    jsonld: &str,
    replies: Option<&[Reply]>,
    form: &FormState,
) -> Markup {
    let slug = &article.slug;
    let title = &article.title;
    let faqs = &article.faqs;
    // `<` escaped: nothing in the JSON can end the script element early.
    let jsonld = jsonld.replace('<', "\\u003c");
    let head = html! {
        // As WordPress links a post's REST resource: the JSON this page shows.
        link rel="alternate" type="application/json" href=(urls::article_in(slug, &article.lang));
        script type="application/ld+json" { (PreEscaped(jsonld)) }
        script src=(urls::SCRIPT) defer {}
    };
    let body = html! {
        nav { a href=(urls::INDEX) { "All articles" } }
        article {
            h1 { (title) }
            @if let Some(readability) = &article.readability {
                p.reading-time { (readability.reading_time_minutes) " min read" }
            }
            @if let Some(intro) = &article.intro {
                (paragraphs(&intro.body))
            }
            @for section in &article.sections {
                (prose(section))
            }
            (numbered("benefits", &article.benefits))
            (numbered("precautions", &article.precautions))
            @if let Some(conclusion) = &article.conclusion {
                (prose(conclusion))
            }
            @if !faqs.items.is_empty() {
                section aria-labelledby="faqs" {
                    h2 id="faqs" { (faqs.heading.as_deref().unwrap_or_default()) }
                    dl {
                        @for faq in &faqs.items {
                            dt id=(anchor("faqs", &faq.id)) { (faq.question) }
                            dd { (faq.answer) }
                        }
                    }
                }
            }
        }
        section.replies aria-labelledby="replies" {
            h2 id="replies" { "Replies" }
            @match replies {
                None => p { "Replies cannot be shown right now." },
                Some([]) => p { "No replies yet." },
                Some(replies) => ol {
                    @for reply in replies {
                        li id=(format!("reply-{}", reply.id)) {
                            p.reply-meta {
                                strong { (reply.author_name) } " · "
                                time datetime=(reply.created_at) { (reply.created_at) }
                            }
                            p.reply-body { (reply.body) }
                        }
                    }
                },
            }
        }
        section aria-labelledby="leave-a-reply" {
            h2 id="leave-a-reply" {
                (article.replies.as_ref().map_or("Leave a Reply", |part| part.heading.as_str()))
            }
            // Posts here without JavaScript; with it, reader.js posts JSON to the API.
            form id="reply-form" method="post" action=(urls::page_replies(slug))
                data-api=(urls::replies(slug)) {
                label for="author_name" { "Name" }
                input id="author_name" name="author_name" required maxlength="80" autocomplete="name"
                    value=(form.author_name);
                label for="author_email" { "Email " span.hint { "(optional, never shown)" } }
                input id="author_email" name="author_email" type="email" maxlength="254" autocomplete="email"
                    value=(form.author_email);
                label for="body" { "Reply" }
                textarea id="body" name="body" required maxlength="5000" { (form.body) }
                // For bots: people never see it, so leave it empty.
                div.honeypot aria-hidden="true" {
                    label for=(HONEYPOT_FIELD) { "Leave this field empty" }
                    input id=(HONEYPOT_FIELD) name=(HONEYPOT_FIELD) tabindex="-1" autocomplete="off";
                }
                input type="hidden" name=(FORM_TOKEN_FIELD) value=(form.token);
                button type="submit" { "Post reply" }
                p id="reply-status" role="status" aria-live="polite" {
                    @if let Some(status) = &form.status { (status) }
                }
            }
        }
    };
    page(article.lang.as_str(), title, head, body)
}

/// Serves the reader page of an article.
pub async fn article_page_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    db: web::Data<Database>,
    pages: web::Data<PageCache>,
    secret: web::Data<Secret>,
    path: ArticlePath,
) -> Result<HttpResponse, ApiError> {
    // Where a reply posted without JavaScript lands once stored.
    let replied = req.query_string() == "replied";
    let form = FormState {
        status: replied.then(|| AWAITS_MODERATION.to_owned()),
        ..FormState::default()
    };
    let page = Page {
        content: &content,
        db: &db,
        secret: &secret,
        path: &path,
    };
    page.render(&req, Some((&pages, replied)), form).await
}

/// Reader pages as nearly every request asks for them (the form empty),
/// rendered (the approved replies read) once per content generation,
/// language and version of the approved replies, and issued once per
/// second: the form's signed timestamp, the one part that changes, is the
/// second the page is served, so that a form posted within seconds of its
/// page is told apart. Served as prepared content is: compressed
/// variants made once per page issued, and a weak `ETag` stamped with the second
/// ([`stamped_tag`]) over everything but the timestamp, so that a browser's
/// copy is confirmed with `304` for [`PAGE_CURRENT_FOR`], whichever second
/// it was issued in. A moderator's decision changes the version, so the
/// next request renders afresh. Bounded by bytes; the least asked-for
/// pages go first.
pub struct PageCache {
    pages: quick_cache::sync::Cache<PageKey, Kept, PageWeight>,
}

/// A page as kept: the page rendered once, around its form's timestamp
/// (with the hash of all of it but the timestamp), and the page as issued
/// in the second `issued`.
#[derive(Clone)]
struct Kept {
    around: Arc<Around>,
    issued: u64,
    page: Representation,
}

/// A rendered page split where its form's timestamp goes, and the hash of
/// the two parts, the same for every second the page is issued in.
struct Around {
    before: String,
    after: String,
    hash: u128,
}

impl Around {
    /// `page` split at `token`, when it holds it.
    fn split(page: &str, token: &str) -> Option<Self> {
        let at = page.find(token).filter(|_| !token.is_empty())?;
        let (before, after) = (&page[..at], &page[at + token.len()..]);
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(before.as_bytes());
        hasher.update(after.as_bytes());
        Some(Self {
            before: before.to_owned(),
            after: after.to_owned(),
            hash: hasher.digest128(),
        })
    }

    /// A page with no timestamp in it: all of it is `before`.
    fn whole(page: String) -> Self {
        let hash = xxhash_rust::xxh3::xxh3_128(page.as_bytes());
        Self {
            before: page,
            after: String::new(),
            hash,
        }
    }

    /// The page issued in the second of `token`.
    fn with(self: &Arc<Self>, token: &str, issued: u64) -> Kept {
        let mut page = String::with_capacity(self.before.len() + token.len() + self.after.len());
        page.push_str(&self.before);
        page.push_str(token);
        page.push_str(&self.after);
        Kept {
            around: Arc::clone(self),
            issued,
            page: Representation::new(page.into()),
        }
    }
}

/// How long a browser's copy of a reader page is confirmed current (304):
/// its form's timestamp is then at most this old when the page is shown
/// again, well within the day a form stays good.
const PAGE_CURRENT_FOR: u64 = 3600;
const _: () = assert!(PAGE_CURRENT_FOR * 2 < guard::FORM_MAX_AGE.as_secs());

/// What a cached page was made from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    generation: u64,
    approved: u64,
    slug: Slug,
    lang: Lang,
    /// Whether the page thanks the reader for a reply (`?replied`).
    replied: bool,
}

/// Weighs a page by its bytes, twice: its compressed variants come to
/// about as much again.
#[derive(Clone)]
struct PageWeight;

impl quick_cache::Weighter<PageKey, Kept> for PageWeight {
    fn weight(&self, _: &PageKey, kept: &Kept) -> u64 {
        2 * kept.page.len() as u64
    }
}

impl PageCache {
    /// A cache holding up to `bytes` of pages.
    pub fn new(bytes: u64) -> Self {
        // A reader page of the source article is about 20 kB.
        let estimated = usize::try_from(bytes / 20_000)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            pages: quick_cache::sync::Cache::with_weighter(estimated, bytes, PageWeight),
        }
    }
}

/// What a reader page is made from.
struct Page<'a> {
    content: &'a LiveContent,
    db: &'a Database,
    secret: &'a Secret,
    path: &'a ArticlePath,
}

impl Page<'_> {
    /// The reader page with the reply form in `form`'s state (its token
    /// issued now); `cache` (with whether the page says a reply was
    /// received) when the form is empty.
    async fn render(
        &self,
        req: &HttpRequest,
        cache: Option<(&PageCache, bool)>,
        mut form: FormState,
    ) -> Result<HttpResponse, ApiError> {
        // Both read before what they count, so a page is never filed under a
        // version newer than what it shows.
        let generation = self.content.generation();
        let approved = self.db.approved_version();
        let now = unix_seconds();
        let store = self.content.current();
        let preference = LangPreference::new(None, language_ranges(req.headers()));
        let slug = &self.path.slug;
        let entry = super::article(&store, slug, &preference)?;
        let key = cache.map(|(pages, replied)| {
            let key = PageKey {
                generation,
                approved,
                slug: slug.clone(),
                lang: entry.lang.clone(),
                replied,
            };
            (pages, key)
        });
        let kept = key.as_ref().and_then(|(pages, key)| pages.pages.get(key));
        // A browser's copy still current needs no page made for this second.
        if let Some(kept) = &kept
            && let Some(issued) =
                stamped_match(req.headers(), kept.around.hash, now, PAGE_CURRENT_FOR)
        {
            let mut response = not_modified(stamped_tag(kept.around.hash, issued));
            super::article_headers(&mut response, &store, entry);
            return Ok(response);
        }
        let kept = match kept {
            Some(kept) if kept.issued == now => kept,
            // Rendered already: only the timestamp is new.
            Some(kept) => {
                let token = self.secret.form_token(slug.as_str(), now);
                let kept = kept.around.with(&token, now);
                if let Some((pages, key)) = key {
                    pages.pages.insert(key, kept.clone());
                }
                kept
            }
            None => {
                // The page is still served when replies are down; it says so, and is not kept.
                let replies = self
                    .db
                    .approved(slug.as_str(), REPLIES_SHOWN, 0)
                    .await
                    .ok()
                    .map(|(replies, _)| replies);
                let jsonld = entry.jsonld().body();
                let jsonld = std::str::from_utf8(&jsonld).expect("JSON is UTF-8");
                form.token = self.secret.form_token(slug.as_str(), now);
                let markup =
                    article_page(entry.article(), jsonld, replies.as_deref(), &form).into_string();
                match Around::split(&markup, &form.token) {
                    Some(around) => {
                        let kept = Arc::new(around).with(&form.token, now);
                        if let (Some((pages, key)), Some(_)) = (key, &replies) {
                            pages.pages.insert(key, kept.clone());
                        }
                        kept
                    }
                    // A page without the form (none is rendered without one).
                    None => Arc::new(Around::whole(markup)).with("", now),
                }
            }
        };
        let mut response = page_response(req, &kept.page);
        if response.status() == StatusCode::OK || response.status() == StatusCode::NOT_MODIFIED {
            let tag = stamped_tag(kept.around.hash, kept.issued);
            response.headers_mut().insert(
                header::ETAG,
                HeaderValue::from_str(&tag).expect("a stamped tag is a valid header"),
            );
        }
        super::article_headers(&mut response, &store, entry);
        Ok(response)
    }
}

/// `304` for a reader page whose copy the client has, named by `tag`, with
/// the headers its `200` would have had for caches to refresh.
fn not_modified(tag: String) -> HttpResponse {
    let mut response = HttpResponse::NotModified();
    response
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .insert_header((header::VARY, "accept-encoding"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::http::edge::PAGE_POLICY),
        ));
    response.finish()
}

/// Now, in whole seconds since the Unix epoch.
fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Takes the reply form as the page posts it (`application/x-www-form-urlencoded`),
/// by the same rules as the API, with the form's own: a filled honeypot or
/// a missing, forged, expired or too recent timestamp stores the reply as
/// spam, answered as any other. Without JavaScript, a stored reply
/// redirects (303) to the page, which says it awaits moderation, and a
/// refused one shows the page saying why, with what was typed kept. The
/// page's script asks for JSON (`Accept: application/json`) and gets the
/// API's answers: 202 with the receipt (and its edit token), or a problem.
#[allow(clippy::too_many_arguments)]
pub async fn reply_form_submit(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    db: web::Data<Database>,
    rate: web::Data<ReplyRateLimit>,
    secret: web::Data<Secret>,
    path: ArticlePath,
    client: ClientAddr,
    body: FormBody,
) -> Result<HttpResponse, ApiError> {
    super::article(&content.current(), &path.slug, &LangPreference::default())?;
    let FormBody(fields) = body;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    let mut form = FormState {
        author_name: field("author_name"),
        author_email: field("author_email"),
        body: field("body"),
        ..FormState::default()
    };
    let person = secret.check_form(
        path.slug.as_str(),
        &field(HONEYPOT_FIELD),
        &field(FORM_TOKEN_FIELD),
        unix_seconds(),
    );
    if let Err(bot) = person {
        tracing::info!(article = %path.slug, ?bot, "a reply form looks sent by a bot: stored as spam");
    }
    let wants_json = accepts_json(&req);
    let key = super::replies::idempotency_key(&req)?;
    // The API's own rules: the form becomes the JSON the API takes.
    let mut reply = serde_json::Map::new();
    reply.insert("author_name".into(), form.author_name.clone().into());
    reply.insert("body".into(), form.body.clone().into());
    if !form.author_email.trim().is_empty() {
        reply.insert("author_email".into(), form.author_email.clone().into());
    }
    let outcome = async {
        let reply = crate::replies::parse_reply(&serde_json::to_vec(&reply).unwrap_or_default())?;
        let submission = Submission {
            article: path.slug.as_str(),
            reply: &reply,
            client: client.0,
            idempotency_key: key,
            status: guard::initial_status(&reply.body, person),
            secret: &secret,
        };
        super::replies::submit(&db, &rate, submission).await
    }
    .await;
    if wants_json {
        return outcome
            .map(|(created, allowance)| super::replies::accepted(&path.slug, created, allowance));
    }
    match outcome {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("{}?replied#leave-a-reply", urls::page(&path.slug)),
            ))
            .finish()),
        Err(error) => {
            let status = error.status_code();
            form.status = Some(match &error {
                ApiError::Unprocessable { errors, .. } if !errors.is_empty() => errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field.replace('_', " "), e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            });
            let page = Page {
                content: &content,
                db: &db,
                secret: &secret,
                path: &path,
            };
            let mut response = page.render(&req, None, form).await?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// Whether the request asks for JSON rather than a page (the page's script).
fn accepts_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.starts_with("application/json"))
}

/// The HTML face of `/`: every article, linked to its reader page.
pub fn index_page(req: &HttpRequest, store: &Store) -> HttpResponse {
    let body = html! {
        h1 { "Articles" }
        ul {
            @for entry in store.listed() {
                li lang=(entry.lang) {
                    a href=(urls::page(&entry.summary.slug)) { (entry.summary.title) }
                }
            }
        }
        p { a href=(urls::DOCS) { "API documentation" } " · " a href=(urls::OPENAPI) { "OpenAPI document" } }
    };
    html_response(req, page("en", "Articles", html! {}, body))
}

fn html_response(req: &HttpRequest, markup: Markup) -> HttpResponse {
    page_response(
        req,
        &Representation::new(markup.into_string().into()).without_variants(),
    )
}

/// Answers with a page: revalidated every time (pages show replies, which
/// change without a reload), with the pages' security policy.
fn page_response(req: &HttpRequest, page: &Representation) -> HttpResponse {
    let mut response = page.respond(req, HTML, Caching::Revalidate(REVALIDATE));
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::http::edge::PAGE_POLICY),
    );
    response
}

/// Whether the client asks for HTML before JSON, as browsers do.
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .any(|value| {
            value
                .split(',')
                .any(|range| range.trim().starts_with("text/html"))
        })
}

/// The pages' stylesheet and script, prepared on first request.
static CSS: LazyLock<Representation> = LazyLock::new(|| Representation::new(STYLESHEET.into()));
static JS: LazyLock<Representation> = LazyLock::new(|| Representation::new(SCRIPT.into()));

/// Serves the pages' stylesheet.
pub async fn stylesheet(req: HttpRequest) -> HttpResponse {
    CSS.respond(&req, "text/css; charset=utf-8", Caching::Content)
}

/// Serves the pages' script.
pub async fn script(req: HttpRequest) -> HttpResponse {
    JS.respond(&req, "text/javascript; charset=utf-8", Caching::Content)
}

/// A refusal of a reader page, for a person: a browser that follows a
/// broken link (an article gone, a slug mistyped) gets a page saying what
/// is wrong and where to go on, where a client asking for JSON (the page's
/// own script) still gets the problem. A page already is one.
fn error_page<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if problem::is_page(response.headers()) || !wants_html(response.request()) {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let (request, response) = response.into_parts();
    let response = problem_page(&request, response);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, response).map_into_right_body(),
    ))
}

/// A refusal of a path outside the API (`/about`, `/article/<slug>`) for a
/// browser: a page, as for a reader page's, where a client asking for JSON
/// gets the problem. The API's own paths answer problems to everyone.
pub fn refusal(req: &HttpRequest, error: ApiError) -> Result<HttpResponse, ApiError> {
    if urls::is_api(req.path()) || !wants_html(req) {
        return Err(error);
    }
    Ok(problem_page(req, error.error_response()))
}

/// An error response's problem as a page: its title, its detail, a link
/// to what a near miss meant, and the way on to every article.
fn problem_page<B>(request: &HttpRequest, response: HttpResponse<B>) -> HttpResponse {
    let (path, query) = (request.path(), request.query_string());
    problem::error_response(path, query, response, HTML, |problem| {
        // What a detail quotes in backticks (a slug, a path) reads as code.
        let body = html! {
            h1 { (problem.title) }
            p {
                @for (i, piece) in problem.detail.split('`').enumerate() {
                    @if i % 2 == 1 { code { (piece) } } @else { (piece) }
                }
            }
            @if let Some(meant) = &problem.meant {
                p { "Go to " a href=(meant) { (meant) } }
            }
            p { a href=(urls::INDEX) { "Every article" } }
        };
        page("en", &problem.title, html! {}, body)
            .into_string()
            .into_bytes()
    })
}

/// Registers the pages and their assets.
pub fn configure(config: &mut web::ServiceConfig) -> &mut web::ServiceConfig {
    config
        .service(
            reading(urls::templates::PAGE, article_page_view)
                .wrap(ErrorHandlers::new().default_handler(error_page)),
        )
        .service(
            web::resource(urls::templates::PAGE_REPLIES)
                .route(web::post().to(reply_form_submit))
                .default_service(web::to(fallback::fallback)),
        )
        .service(reading(urls::STYLESHEET, stylesheet))
        .service(reading(urls::SCRIPT, script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_issued_in_another_second_differs_only_by_its_timestamp_and_hashes_alike() {
        let page = |token: &str, text: &str| format!("<p>{text}</p><input value=\"{token}\">");
        let around = Arc::new(Around::split(&page("100.aaaa", "same"), "100.aaaa").unwrap());
        let later = around.with("101.bbbb", 101);
        assert_eq!(later.page.body(), page("101.bbbb", "same").as_bytes());
        assert_eq!(later.issued, 101);
        let other = Around::split(&page("100.aaaa", "other"), "100.aaaa").unwrap();
        // The same page rendered in the later second hashes alike.
        let rendered_later = Around::split(&page("101.bbbb", "same"), "101.bbbb").unwrap();
        assert_eq!(rendered_later.hash, around.hash);
        assert_ne!(other.hash, around.hash);
        assert!(Around::split("<p>no form</p>", "100.aaaa").is_none());
    }
}
