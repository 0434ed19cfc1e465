//! Delta sync: what changed in the content since a client last asked.
//!
//! Each content set served is recorded in the database's content history
//! (`replies::db::history`) by [`record_forever`]: every resource (an
//! article in one language, each of its parts) with a digest of its JSON,
//! and a numbered change for each resource created, changed or deleted
//! since the last record. A sync token names a change number; a delta is
//! the last change of each resource after it, the data read from the
//! content being served. The history, not this process, numbers changes,
//! so tokens survive restarts and every replica on one database reads them.

mod token;

use std::{sync::Arc, time::Duration};

use arc_swap::ArcSwapOption;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

pub use token::{BadToken, ChangePage, ItemKey, Position, SyncToken};

use crate::{
    content::Lang,
    events::{ContentEvent, EventType, NewEvent},
    http::representation::Representation,
    replies::{ChangeQuery, Changes, Database, ItemDigest, NewChange, ReplyError},
    search::HitType,
    store::{Entry, LiveContent, Store},
    urls,
};

/// One resource in a sync answer: created or changed (with its `data`),
/// or deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncItem {
    /// What kind of resource it is.
    #[serde(rename = "type")]
    #[schema(example = "benefit")]
    pub kind: HitType,
    /// Its id: the slug for an article, else the part's id.
    #[schema(example = "improves-posture")]
    pub id: String,
    /// The article it is, or belongs to.
    #[schema(value_type = String, example = "deep-tissue-massage-for-back-pain")]
    pub article: String,
    /// Its language.
    #[schema(value_type = String, example = "en")]
    pub lang: String,
    /// Whether it was deleted: then it has no `data` and no `url`.
    pub deleted: bool,
    /// Where it is served.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/v1/articles/deep-tissue-massage-for-back-pain/benefits/improves-posture")]
    pub url: Option<String>,
    /// The resource as its own URL serves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = sync_data_schema)]
    pub data: Option<Box<RawValue>>,
}

/// The schema of a sync item's data: the resource its `type` names. Any
/// of them rather than one of them: a benefit and a precaution have the
/// same shape, so a document would match both.
fn sync_data_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::{Ref, schema::AnyOfBuilder};
    ["Article", "Section", "Benefit", "Precaution", "Faq"]
        .into_iter()
        .fold(AnyOfBuilder::new(), |any, name| {
            any.item(Ref::from_schema_name(name))
        })
        .description(Some(
            "The resource as its own URL serves it: an Article, Section, Benefit, Precaution or Faq, as `type` says.",
        ))
        .build()
        .into()
}

/// One page of a sync. The last page carries `next_sync_token`, to keep
/// for the next sync; every other page `next_page_token`, to ask for the
/// next page now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncPage {
    /// The resources created, changed or deleted, in a stable order.
    pub items: Vec<SyncItem>,
    /// Pass as `sync_token` for the next page of this sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "eyJlIjoiOWYyYyIsImYiOjQyfQ")]
    pub next_page_token: Option<String>,
    /// Pass as `sync_token` later to learn what changed after this sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "eyJlIjoiOWYyYyIsImYiOjU3fQ")]
    pub next_sync_token: Option<String>,
}

/// Why a sync could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The token names changes no longer kept (or another history).
    #[error(
        "this sync token is older than the history kept (or from another history); \
         sync from scratch: ask again without a sync_token"
    )]
    Forgotten,
    /// The content served has not been recorded yet (right after a start
    /// or a reload).
    #[error("the content history is being recorded; try again in a second")]
    NotRecorded,
    /// The token's filters differ from the request's.
    #[error(
        "query parameter `{0}` differs from the one this sync began with; a sync keeps its filters"
    )]
    FilterChanged(&'static str),
    #[error(transparent)]
    Database(#[from] ReplyError),
}

/// What a sync asks: its token (if any), its filters, its page size.
#[derive(Debug, Clone, Default)]
pub struct SyncRequest {
    pub token: Option<SyncToken>,
    pub kind: Option<HitType>,
    pub lang: Option<Lang>,
    pub limit: usize,
}

/// The content set last recorded by this process: its revision, the
/// history's name and the change number it stands at.
#[derive(Debug)]
struct Mark {
    revision: String,
    epoch: String,
    seq: i64,
}

/// Where this process's content stands in the history.
#[derive(Debug, Default)]
pub struct ContentHistory {
    mark: ArcSwapOption<Mark>,
}

impl ContentHistory {
    /// The history's name and change number for the content `store`
    /// holds, once it is recorded.
    fn mark_of(&self, store: &Store) -> Result<Arc<Mark>, SyncError> {
        self.mark
            .load_full()
            .filter(|mark| mark.revision == store.revision())
            .ok_or(SyncError::NotRecorded)
    }
}

/// Each resource of `entry` a sync names, in order: the article, then its
/// sections, benefits, precautions and FAQs, each with its index among
/// its kind.
fn resources(entry: &Entry) -> impl Iterator<Item = (HitType, usize, &str, &Representation)> {
    let parts = HitType::ALL.into_iter().flat_map(move |kind| {
        entry.parts(kind).into_iter().flat_map(move |parts| {
            parts
                .iter()
                .enumerate()
                .map(move |(index, (id, rep))| (kind, index, id, rep))
        })
    });
    std::iter::once((
        HitType::Article,
        0,
        entry.summary.slug.as_str(),
        &entry.whole,
    ))
    .chain(parts)
}

/// The digest of every resource of `store`, in order: the hashing, done
/// apart (on a blocking thread) from [`items`], which names them.
fn digests(store: &Store) -> Vec<[u8; 32]> {
    let entries = store.entries();
    let mut digests = Vec::with_capacity(entries.iter().map(|e| resources(e).count()).sum());
    digests.extend(
        entries
            .iter()
            .flat_map(resources)
            // 32 hex digits: the first 16 bytes of the body's SHA-256.
            .map(|(_, _, _, rep)| rep.digest()),
    );
    digests
}

/// Every resource of `store`, with its digest from `digests`, for the
/// history.
fn items<'a>(store: &'a Store, digests: &'a [[u8; 32]]) -> Vec<ItemDigest<'a>> {
    let mut items = Vec::with_capacity(digests.len());
    let named = store
        .entries()
        .iter()
        .flat_map(|entry| {
            let (article, lang) = (entry.summary.slug.as_str(), entry.lang.as_str());
            resources(entry).map(move |(kind, _, id, _)| (article, lang, kind, id))
        })
        .zip(digests)
        .map(|((article, lang, kind, id), digest)| ItemDigest {
            article,
            lang,
            kind: kind.as_str(),
            id,
            digest,
        });
    items.extend(named);
    items
}

/// A resource as a sync item, with its data.
fn present(entry: &Entry, kind: HitType, id: &str, rep: &Representation) -> SyncItem {
    // Prepared bodies are JSON, serialized from the content types.
    let data = String::from_utf8(rep.body().to_vec())
        .ok()
        .and_then(|json| RawValue::from_string(json).ok());
    SyncItem {
        kind,
        id: id.to_owned(),
        article: entry.summary.slug.to_string(),
        lang: entry.lang.to_string(),
        deleted: false,
        url: Some(urls::hit(&entry.summary.slug, kind, id, &entry.lang)),
        data,
    }
}

/// Answers a sync from the content `store` holds.
pub async fn sync(
    store: &Store,
    history: &ContentHistory,
    db: &Database,
    request: SyncRequest,
) -> Result<SyncPage, SyncError> {
    let mark = history.mark_of(store)?;
    let (kind, lang) = match &request.token {
        None => (request.kind, request.lang.clone()),
        Some(token) => {
            if request.kind.is_some() && request.kind != token.kind {
                return Err(SyncError::FilterChanged("type"));
            }
            if request.lang.is_some() && request.lang != token.lang {
                return Err(SyncError::FilterChanged("lang"));
            }
            (token.kind, token.lang.clone())
        }
    };
    let token = |at: Position| {
        SyncToken {
            epoch: mark.epoch.clone(),
            at,
            kind,
            lang: lang.clone(),
        }
        .to_string()
    };
    let wanted = |entry: &Entry, item_kind: HitType| {
        kind.is_none_or(|kind| kind == item_kind) && lang.as_ref().is_none_or(|l| *l == entry.lang)
    };

    match request.token {
        Some(SyncToken {
            epoch,
            at: Position::Since { from, page },
            ..
        }) => {
            let ChangePage { upto, after } = page.unwrap_or(ChangePage {
                upto: mark.seq.max(from),
                after: from,
            });
            let found = db
                .content_changes(&ChangeQuery {
                    epoch: &epoch,
                    from,
                    upto,
                    after,
                    lang: lang.as_ref().map(Lang::as_str),
                    kind: kind.map(HitType::as_str),
                    limit: request.limit + 1,
                })
                .await?;
            let Changes::Found(mut changes) = found else {
                return Err(SyncError::Forgotten);
            };
            let more = changes.len() > request.limit;
            changes.truncate(request.limit);
            let last = changes.last().map(|change| change.seq);
            let items = changes
                .into_iter()
                .filter_map(|change| {
                    let kind: HitType = change.kind.parse().ok()?;
                    if change.digest.is_none() {
                        return Some(SyncItem {
                            kind,
                            id: change.item_id,
                            article: change.article,
                            lang: change.lang,
                            deleted: true,
                            url: None,
                            data: None,
                        });
                    }
                    let entry = store.exact(&change.article, &change.lang)?;
                    let (kind, _, id, rep) = resources(entry)
                        .find(|(k, _, id, _)| *k == kind && *id == change.item_id)?;
                    Some(present(entry, kind, id, rep))
                })
                .collect();
            Ok(match (more, last) {
                (true, Some(last)) => SyncPage {
                    items,
                    next_page_token: Some(token(Position::Since {
                        from,
                        page: Some(ChangePage { upto, after: last }),
                    })),
                    next_sync_token: None,
                },
                _ => SyncPage {
                    items,
                    next_page_token: None,
                    next_sync_token: Some(token(Position::since(upto))),
                },
            })
        }
        Some(SyncToken {
            at: Position::Scratch { upto, after },
            ..
        }) => Ok(from_scratch(
            store,
            upto,
            Some(&after),
            request.limit,
            &wanted,
            &token,
        )),
        None => Ok(from_scratch(
            store,
            mark.seq,
            None,
            request.limit,
            &wanted,
            &token,
        )),
    }
}

/// One page of a sync from scratch: every resource as it is now, after
/// `after` (the last one of the page before) in the store's order.
fn from_scratch(
    store: &Store,
    upto: i64,
    after: Option<&ItemKey>,
    limit: usize,
    wanted: &dyn Fn(&Entry, HitType) -> bool,
    token: &dyn Fn(Position) -> String,
) -> SyncPage {
    let entries = store.entries();
    let start = after.map_or(0, |after| {
        entries.partition_point(|entry| {
            (entry.summary.slug.as_str(), entry.lang.as_str())
                < (after.slug.as_str(), after.lang.as_str())
        })
    });
    let rank = |kind: HitType| HitType::ALL.iter().position(|k| *k == kind);
    let mut items = Vec::new();
    let mut last = None;
    let mut more = false;
    'entries: for entry in &entries[start..] {
        for (kind, index, id, rep) in resources(entry) {
            if let Some(after) = after {
                let same =
                    entry.summary.slug.as_str() == after.slug && entry.lang.as_str() == after.lang;
                if same && (rank(kind), index) <= (rank(after.kind), after.index) {
                    continue;
                }
            }
            if !wanted(entry, kind) {
                continue;
            }
            if items.len() == limit {
                more = true;
                break 'entries;
            }
            items.push(present(entry, kind, id, rep));
            last = Some(ItemKey {
                slug: entry.summary.slug.to_string(),
                lang: entry.lang.to_string(),
                kind,
                index,
            });
        }
    }
    match (more, last) {
        (true, Some(after)) => SyncPage {
            items,
            next_page_token: Some(token(Position::Scratch { upto, after })),
            next_sync_token: None,
        },
        _ => SyncPage {
            items,
            next_page_token: None,
            next_sync_token: Some(token(Position::since(upto))),
        },
    }
}

/// The `content.*` events of `changes`: one per article and language
/// changed, carrying a sync token from before the change and the purge
/// keys of everything it makes stale. Each is made as it is taken: a
/// first record of 10,000 articles has 10,000 events with 200,000 purge
/// keys, and all of them at once made a tenth of the process's peak
/// memory.
fn content_events<'a>(
    epoch: &str,
    before: i64,
    changes: &mut dyn Iterator<Item = NewChange<'a>>,
) -> Box<dyn Iterator<Item = NewEvent> + Send + 'a> {
    // Each article and language's event type, with the kind and id of
    // each of its parts that changed.
    type Gathered<'a> = ((&'a str, &'a str), EventType, Vec<(&'a str, &'a str)>);
    let mut events: Vec<Gathered> = Vec::new();
    let mut index_of: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for change in changes {
        let at = (change.article, change.lang);
        let index = *index_of.entry(at).or_insert_with(|| {
            events.push((at, EventType::ContentUpdated, Vec::new()));
            events.len() - 1
        });
        let (_, kind, parts) = &mut events[index];
        if change.kind == HitType::Article.as_str() {
            *kind = match (change.digest.is_some(), change.created) {
                (false, _) => EventType::ContentDeleted,
                (true, true) => EventType::ContentPublished,
                (true, false) => *kind,
            };
        } else {
            parts.push((change.kind, change.item_id));
        }
    }
    let sync_token = SyncToken {
        epoch: epoch.to_owned(),
        at: Position::since(before),
        kind: None,
        lang: None,
    }
    .to_string();
    Box::new(
        events
            .into_iter()
            .map(move |((article, lang), kind, parts)| {
                let mut purge_keys = urls::purge::article(article, lang).to_vec();
                purge_keys.extend(
                    [urls::purge::LIST, urls::purge::BUNDLE, urls::purge::SEARCH].map(String::from),
                );
                purge_keys.extend(
                    parts
                        .into_iter()
                        .map(|(kind, id)| urls::purge::part(kind, article, id)),
                );
                NewEvent::new(
                    kind,
                    ContentEvent {
                        article: article.to_owned(),
                        lang: lang.to_owned(),
                        sync_token: sync_token.clone(),
                        purge_keys,
                    },
                )
            }),
    )
}

/// How long to wait before recording again after the database failed.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MOST: Duration = Duration::from_secs(30);

/// Records each content set served in the history, until the process
/// ends: the one served at start, then each one a reload swaps in
/// (`changed` says when). A database that is down is tried again, with
/// a growing pause, until it answers or newer content arrives.
pub async fn record_forever(
    content: Arc<LiveContent>,
    history: Arc<ContentHistory>,
    db: Arc<Database>,
    keep: Duration,
    mut changed: tokio::sync::watch::Receiver<()>,
) {
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    let mut pause = RETRY_FIRST;
    loop {
        let store = content.snapshot();
        let done = history
            .mark
            .load()
            .as_ref()
            .is_some_and(|mark| mark.revision == store.revision());
        if !done {
            // After the search index is built: building both at once at
            // 10,000 articles made the process's peak memory.
            while !store.indexed() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let digests = {
                let store = Arc::clone(&store);
                match tokio::task::spawn_blocking(move || digests(&store)).await {
                    Ok(digests) => digests,
                    Err(_) => return,
                }
            };
            let items = items(&store, &digests);
            match db.record_content(&items, keep_ms, &content_events).await {
                Ok(record) => {
                    pause = RETRY_FIRST;
                    tracing::info!(
                        revision = store.revision(),
                        seq = record.seq,
                        changes = record.changes,
                        "content history recorded"
                    );
                    history.mark.store(Some(Arc::new(Mark {
                        revision: store.revision().to_owned(),
                        epoch: record.epoch.clone(),
                        seq: record.seq,
                    })));
                }
                Err(error) => {
                    tracing::warn!(
                        "content history not recorded ({error}); sync answers 503 until it is; \
                         trying again in {}s",
                        pause.as_secs()
                    );
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        _ = changed.changed() => {}
                    }
                    pause = (pause * 2).min(RETRY_MOST);
                    continue;
                }
            }
        }
        if changed.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    fn change<'a>(
        article: &'a str,
        kind: &'a str,
        id: &'a str,
        digest: Option<&'a str>,
    ) -> NewChange<'a> {
        NewChange {
            seq: 0,
            article,
            lang: "en",
            kind,
            item_id: id,
            digest,
            created: false,
        }
    }

    #[test]
    fn each_article_changed_is_one_event_naming_everything_it_makes_stale() {
        let digest = Some("0123456789abcdef0123456789abcdef");
        let changes = vec![
            NewChange {
                created: true,
                ..change("a", "article", "a", digest)
            },
            change("a", "benefit", "x", digest),
            change("b", "faq", "y", digest),
            // Gone items come after the present ones: `a`'s part is
            // still `a`'s event.
            change("a", "precaution", "z", None),
            change("b", "article", "b", None),
        ];
        let events: Vec<Event<ContentEvent>> = content_events("e", 7, &mut changes.into_iter())
            .map(|event| serde_json::from_str(&event.payload).unwrap())
            .collect();
        let told: Vec<(EventType, &str, Vec<&str>)> = events
            .iter()
            .map(|event| {
                let keys = event.data.purge_keys.iter().map(String::as_str).collect();
                (event.kind, event.data.article.as_str(), keys)
            })
            .collect();
        assert_eq!(
            told,
            [
                (
                    EventType::ContentPublished,
                    "a",
                    vec![
                        "article:a",
                        "article:a:en",
                        "articles",
                        "bundle",
                        "search",
                        "benefit:a:x",
                        "precaution:a:z"
                    ]
                ),
                (
                    EventType::ContentDeleted,
                    "b",
                    vec![
                        "article:b",
                        "article:b:en",
                        "articles",
                        "bundle",
                        "search",
                        "faq:b:y"
                    ]
                ),
            ]
        );
        // Each carries a sync token from before the changes.
        let token: SyncToken = events[0].data.sync_token.parse().unwrap();
        assert_eq!(token.at, Position::since(7));
    }
}
