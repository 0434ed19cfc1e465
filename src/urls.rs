//! URLs: the one place that spells the API's paths for what it links to
//! (search hits, article summaries, the index, pages), for `Location` and for
//! `Link` headers. Route templates themselves live on the handlers.

use crate::{
    content::{Lang, ReviewStatus, Slug},
    search::HitType,
};

/// The articles' base path, as a literal for `concat!`.
macro_rules! articles {
    () => {
        "/v1/articles"
    };
}

/// The list of articles.
pub const ARTICLES: &str = articles!();
/// The index: links to every resource.
pub const INDEX: &str = "/";
/// The JSON API's version prefix; not a resource itself.
pub const API_ROOT: &str = "/v1";
/// `path` with `query` (as the request sent it), if there is one.
pub fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// Whether `path` is the JSON API's (under `/v1`), not a page's.
pub fn is_api(path: &str) -> bool {
    path.strip_prefix(API_ROOT)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
/// Search and sync's paths, as literals for `concat!`.
macro_rules! search {
    () => {
        "/v1/search"
    };
}
macro_rules! sync {
    () => {
        "/v1/sync"
    };
}
/// Swagger UI's base path.
macro_rules! docs {
    () => {
        "/docs"
    };
}
/// The reader pages' base path: HTML, not part of the JSON API.
macro_rules! pages {
    () => {
        "/articles"
    };
}

/// Search.
pub const SEARCH: &str = search!();
/// Delta sync.
pub const SYNC: &str = sync!();
/// Every article at once.
pub const BUNDLE: &str = "/v1/bundle";
/// The live events.
pub const EVENTS: &str = "/v1/events";
/// The moderators' list of replies.
pub const MODERATION_REPLIES: &str = "/v1/moderation/replies";
/// The OpenAPI document.
pub const OPENAPI: &str = "/openapi.json";
/// Swagger UI.
pub const DOCS: &str = concat!(docs!(), "/");
/// The reader page's stylesheet and script.
pub const STYLESHEET: &str = "/assets/reader.css";
pub const SCRIPT: &str = "/assets/reader.js";

/// The URL templates the index links to (RFC 6570): `{slug}` is a path
/// segment, `{?name,...}` and `{&name,...}` the query parameters one may add.
pub mod templates {
    pub const ARTICLE: &str = concat!(articles!(), "/{slug}");
    pub const JSONLD: &str = concat!(articles!(), "/{slug}/jsonld");
    /// The reader page: HTML, not part of the JSON API.
    pub const PAGE: &str = concat!(pages!(), "/{slug}");
    /// Swagger UI's page and files.
    pub const DOCS_FILES: &str = concat!(docs!(), "/{_:.*}");
    /// Where the reader page's form posts a reply without JavaScript.
    pub const PAGE_REPLIES: &str = concat!(pages!(), "/{slug}/replies");
    pub const SEARCH: &str = concat!(search!(), "?q={query}{&type,lang,limit,offset}");
    pub const SYNC: &str = concat!(sync!(), "{?sync_token,type,lang,limit}");
    pub const SECTIONS: &str = concat!(articles!(), "/{slug}/sections");
    pub const BENEFITS: &str = concat!(articles!(), "/{slug}/benefits");
    pub const PRECAUTIONS: &str = concat!(articles!(), "/{slug}/precautions");
    pub const FAQS: &str = concat!(articles!(), "/{slug}/faqs");
    pub const REPLIES: &str = concat!(articles!(), "/{slug}/replies");
}

/// One article, whole.
pub fn article(slug: &Slug) -> String {
    format!("{ARTICLES}/{slug}")
}

/// One article, whole, in `lang`.
pub fn article_in(slug: &Slug, lang: &Lang) -> String {
    hit(slug, HitType::Article, "", lang)
}

/// An article's reader page.
pub fn page(slug: &Slug) -> String {
    format!("{}/{slug}", pages!())
}

/// The forms an article is served in, each at a URL of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Json,
    Page,
    JsonLd,
}

/// The `Link` header (RFC 8288) naming an article's representations other
/// than `this`: its JSON and its JSON-LD in `lang`, its reader page for
/// people (which takes its language from `Accept-Language`).
pub fn alternates(slug: &Slug, lang: &Lang, this: Form) -> String {
    let query = if lang.is_default() {
        String::new()
    } else {
        format!("?lang={lang}")
    };
    [
        (Form::Json, article_in(slug, lang), "application/json"),
        (Form::Page, page(slug), "text/html"),
        (
            Form::JsonLd,
            format!("{}/jsonld{query}", article(slug)),
            "application/ld+json",
        ),
    ]
    .into_iter()
    .filter(|(form, ..)| *form != this)
    .map(|(_, url, media_type)| format!("<{url}>; rel=\"alternate\"; type=\"{media_type}\""))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Where an article's reader page posts a reply without JavaScript.
pub fn page_replies(slug: &Slug) -> String {
    format!("{}/{slug}/replies", pages!())
}

/// The articles whose review has this status.
pub fn articles_reviewed(status: ReviewStatus) -> String {
    format!("{ARTICLES}?review_status={}", status.as_str())
}

/// The replies to an article.
pub fn replies(slug: &Slug) -> String {
    format!("{ARTICLES}/{slug}/replies")
}

/// One reply to an article.
pub fn reply(slug: &Slug, id: impl std::fmt::Display) -> String {
    format!("{ARTICLES}/{slug}/replies/{id}")
}

/// What a search hit points at: the article, or one of its parts, with
/// `?lang=` when it is not in the default language.
pub fn hit(slug: &Slug, kind: HitType, id: &str, lang: &Lang) -> String {
    // Pieces pushed into one allocation, not `format!`: a page of search
    // hits makes twenty of these, and formatting's growth was 5% of a
    // search's CPU.
    let default = lang.is_default();
    let collection = kind.collection();
    let mut url = String::with_capacity(
        ARTICLES.len()
            + 1
            + slug.as_str().len()
            + collection.map_or(0, |c| c.len() + id.len() + 2)
            + if default { 0 } else { 6 + lang.as_str().len() },
    );
    url.push_str(ARTICLES);
    url.push('/');
    url.push_str(slug.as_str());
    if let Some(collection) = collection {
        url.push('/');
        url.push_str(collection);
        url.push('/');
        url.push_str(id);
    }
    if !default {
        url.push_str("?lang=");
        url.push_str(lang.as_str());
    }
    url
}

/// Purge keys (see `http::cache::PurgeKeys`): what a CDN purges when
/// content changes. Every response about an article in one language
/// carries that article's two keys; a part alone adds its own.
pub mod purge {
    use std::fmt::Display;

    /// The list of articles.
    pub const LIST: &str = "articles";
    /// Every article at once (`/v1/bundle`).
    pub const BUNDLE: &str = "bundle";
    /// Search answers.
    pub const SEARCH: &str = "search";

    /// An article in every language, and in this one.
    pub fn article(slug: impl Display, lang: impl Display) -> [String; 2] {
        [format!("article:{slug}"), format!("article:{slug}:{lang}")]
    }

    /// One part of an article, `kind` singular: `benefit:{slug}:{id}`.
    pub fn part(kind: &str, slug: impl Display, id: &str) -> String {
        format!("{kind}:{slug}:{id}")
    }
}

/// The `Link` header (RFC 8288) of the page at `offset` of the list at
/// `base` (a path, with its other query parameters if any).
pub fn link_header(base: &str, limit: usize, offset: usize, total: usize) -> String {
    let link = |offset: usize, rel: &str| {
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("<{base}{separator}limit={limit}&offset={offset}>; rel=\"{rel}\"")
    };
    let last = total.saturating_sub(1) / limit * limit;
    let mut links = vec![link(0, "first")];
    if offset > 0 {
        links.push(link(offset.saturating_sub(limit).min(last), "prev"));
    }
    if offset + limit < total {
        links.push(link(offset + limit, "next"));
    }
    links.push(link(last, "last"));
    links.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_is_v1_and_what_is_under_it_only() {
        assert!(is_api("/v1"));
        assert!(is_api("/v1/articles"));
        assert!(!is_api("/v10/articles"));
        assert!(!is_api("/articles/x"));
        assert!(!is_api("/"));
    }

    #[test]
    fn a_single_page_links_only_to_itself() {
        assert_eq!(
            link_header("/v1/articles", 20, 0, 1),
            "</v1/articles?limit=20&offset=0>; rel=\"first\", </v1/articles?limit=20&offset=0>; rel=\"last\""
        );
    }

    #[test]
    fn a_middle_page_links_both_ways() {
        let header = link_header("/v1/articles", 2, 2, 5);
        assert!(header.contains("</v1/articles?limit=2&offset=0>; rel=\"prev\""));
        assert!(header.contains("</v1/articles?limit=2&offset=4>; rel=\"next\""));
        assert!(header.contains("</v1/articles?limit=2&offset=4>; rel=\"last\""));
    }

    #[test]
    fn a_page_past_the_end_links_back_to_the_last() {
        let header = link_header("/v1/articles", 10, 50, 15);
        assert!(header.contains("</v1/articles?limit=10&offset=10>; rel=\"prev\""));
        assert!(!header.contains("next"));
    }

    #[test]
    fn a_hit_links_to_its_article_or_part_in_its_own_language() {
        let slug: Slug = "deep-tissue-massage".parse().unwrap();
        let en = Lang::default();
        let es: Lang = "es".parse().unwrap();
        for (kind, id, lang, url) in [
            (
                HitType::Article,
                "deep-tissue-massage",
                &en,
                "/v1/articles/deep-tissue-massage",
            ),
            (
                HitType::Faq,
                "is-it-painful",
                &en,
                "/v1/articles/deep-tissue-massage/faqs/is-it-painful",
            ),
            (
                HitType::Article,
                "deep-tissue-massage",
                &es,
                "/v1/articles/deep-tissue-massage?lang=es",
            ),
            (
                HitType::Section,
                "intro",
                &es,
                "/v1/articles/deep-tissue-massage/sections/intro?lang=es",
            ),
        ] {
            let made = hit(&slug, kind, id, lang);
            assert_eq!(made, url);
            // Sized once: the URL never grew.
            assert_eq!(made.capacity(), url.len());
        }
    }
}
