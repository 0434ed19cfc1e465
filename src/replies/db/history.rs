//! The content's history in the database, for delta sync: what each item
//! of the content looked like when last loaded, and every change to it,
//! numbered (`migrations/*/..._content_history.sql`). Kept in the replies
//! database so that every replica on one PostgreSQL shares one numbering,
//! and a sync token given by one is understood by all.

use std::collections::HashMap;

use futures_util::TryStreamExt as _;
use tracing::Instrument as _;

use super::{Database, Pool, ReplyError, db_span, now_millis, to_i64};
use crate::events::NewEvent;

/// Rows per `INSERT`: well under SQLite's 32,766 and PostgreSQL's 65,535
/// parameters with six a row.
const ROWS_PER_INSERT: usize = 1000;

/// One item of the content as loaded: which, and a digest of its JSON,
/// all borrowed (from the content and its list of digests): a first
/// record holds one per resource, 210,000 at 10,000 articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemDigest<'a> {
    pub article: &'a str,
    pub lang: &'a str,
    pub kind: &'static str,
    pub id: &'a str,
    /// The digest of its body, 32 hex digits.
    pub digest: &'a [u8; 32],
}

impl ItemDigest<'_> {
    pub fn digest(&self) -> &str {
        std::str::from_utf8(self.digest).unwrap_or_default()
    }
}

/// An item's names as one key: 128 bits of XXH3 over the names, each
/// ended by a NUL (which no name holds), so no two items share one in
/// practice.
fn item_key(article: &str, lang: &str, kind: &str, id: &str) -> u128 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for name in [article, lang, kind, id] {
        hasher.update(name.as_bytes());
        hasher.update(&[0]);
    }
    hasher.digest128()
}

/// A stored item's digest, as the number its 32 hex digits spell; `Other`
/// for one not in today's form, which no item has now, so that the item
/// is recorded as changed. 32 bytes, not 33 padded to 48: a restart at
/// 10,000 articles holds one per resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoredDigest {
    Hex(u128),
    Other,
}

impl StoredDigest {
    fn of(stored: &str) -> Self {
        match stored.len() {
            32 if stored.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u128::from_str_radix(stored, 16).map_or(Self::Other, Self::Hex)
            }
            _ => Self::Other,
        }
    }

    fn is(self, digest: &[u8; 32]) -> bool {
        let now = std::str::from_utf8(digest).map_or(Self::Other, Self::of);
        matches!((self, now), (Self::Hex(was), Self::Hex(now)) if was == now)
    }
}

/// A recorded change to one item: created or changed (with its new
/// digest), or deleted (without).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContentChange {
    pub seq: i64,
    pub article: String,
    pub lang: String,
    pub kind: String,
    pub item_id: String,
    pub digest: Option<String>,
    /// Whether the item is new (it was not in the content before).
    #[sqlx(skip)]
    pub created: bool,
}

/// A change as it is recorded, borrowing the item it is of: a first record
/// has one per resource (200,000 at 10,000 articles), so none is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewChange<'a> {
    pub seq: i64,
    pub article: &'a str,
    pub lang: &'a str,
    pub kind: &'a str,
    pub item_id: &'a str,
    /// Its new digest; `None` if it was deleted.
    pub digest: Option<&'a str>,
    /// Whether the item is new (it was not in the content before).
    pub created: bool,
}

/// Makes the events of recorded changes, given the history's name and the
/// change number before them; each event is made as it is taken.
pub type Announce = dyn for<'a> Fn(
        &str,
        i64,
        &mut dyn Iterator<Item = NewChange<'a>>,
    ) -> Box<dyn Iterator<Item = NewEvent> + Send + 'a>
    + Sync;

/// A change as it is found: the item's place among the items given, then
/// among those gone, and its number once inserted. Not a copy of the
/// item's names: a first record has one per resource, and these made
/// a tenth of the process's peak memory at 10,000 articles.
#[derive(Debug, Clone, Copy)]
struct Found {
    seq: i64,
    at: u32,
    created: bool,
}

/// What recording a content set came to.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The history's name: tokens carry it.
    pub epoch: String,
    /// The number of the last change: the content as recorded is the
    /// history up to it.
    pub seq: i64,
    /// How many changes this content set made.
    pub changes: usize,
}

/// Which changes to read: the last change of each item in `(from, upto]`,
/// after `after`, at most `limit`, of one language and kind if given.
#[derive(Debug, Clone)]
pub struct ChangeQuery<'a> {
    pub epoch: &'a str,
    pub from: i64,
    pub upto: i64,
    pub after: i64,
    pub lang: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub limit: usize,
}

/// The changes asked for, or why they cannot be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    Found(Vec<ContentChange>),
    /// The changes after `from` are no longer kept, or the token names
    /// another history: the client must sync from scratch.
    Forgotten,
}

/// The `content_history` row.
#[derive(sqlx::FromRow)]
struct History {
    floor: i64,
    epoch: Option<String>,
}

impl Database {
    /// Records `items` (the whole content, in serving order) as the content
    /// now: each item created, changed or deleted since the last record is
    /// a change, numbered in `items`' order. Changes recorded more than
    /// `keep_ms` ago are forgotten first. One transaction, taken by one
    /// replica at a time, so that change numbers are committed in order
    /// and a replica loading the same content records nothing. The events
    /// `announce` makes of the changes (given the history's name and the
    /// number before them) are written in the same transaction.
    pub async fn record_content(
        &self,
        items: &[ItemDigest<'_>],
        keep_ms: i64,
        announce: &Announce,
    ) -> Result<Recorded, ReplyError> {
        let now = now_millis();
        let (_, recorded) = on_pool!(self, "recording the content", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if begin == "BEGIN" {
                // PostgreSQL (SQLite's BEGIN IMMEDIATE already holds the
                // write lock): one recorder at a time.
                sqlx::query("LOCK TABLE content_items IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let history: History =
                sqlx::query_as("SELECT floor, epoch FROM content_history WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
            let epoch = match history.epoch {
                Some(epoch) => epoch,
                None => {
                    let epoch = uuid::Uuid::new_v4().simple().to_string();
                    sqlx::query("UPDATE content_history SET epoch = $1 WHERE id = 1")
                        .bind(&epoch)
                        .execute(&mut *tx)
                        .await?;
                    epoch
                }
            };
            let forgotten: Option<i64> =
                sqlx::query_scalar("SELECT MAX(seq) FROM content_changes WHERE recorded_at < $1")
                    .bind(now - keep_ms)
                    .fetch_one(&mut *tx)
                    .await?;
            if let Some(forgotten) = forgotten {
                sqlx::query("DELETE FROM content_changes WHERE seq <= $1")
                    .bind(forgotten)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE content_history SET floor = $1 WHERE id = 1 AND floor < $1")
                    .bind(forgotten)
                    .execute(&mut *tx)
                    .await?;
            }

            let before: i64 = sqlx::query_scalar(LAST_SEQ).fetch_one(&mut *tx).await?;
            // What each stored item was, by a hash of its names, streamed
            // in: held as strings (in a list, then a map), the rows made the
            // process's peak on every restart at 10,000 articles (322 MB,
            // against 277-291 MB streamed), sized for today's items so that
            // it is not grown, old and new table side by side.
            let mut was: HashMap<u128, StoredDigest> = HashMap::with_capacity(items.len());
            {
                let mut rows = sqlx::query_as::<_, (String, String, String, String, String)>(
                    "SELECT article, lang, kind, item_id, digest FROM content_items",
                )
                .fetch(&mut *tx);
                while let Some((article, lang, kind, id, digest)) = rows.try_next().await? {
                    was.insert(
                        item_key(&article, &lang, &kind, &id),
                        StoredDigest::of(&digest),
                    );
                }
            }
            // One entry per change, numbered below.
            let mut changes: Vec<Found> = Vec::new();
            for (at, item) in (0u32..).zip(items) {
                let before = was.remove(&item_key(item.article, item.lang, item.kind, item.id));
                if before.is_none_or(|before| !before.is(item.digest)) {
                    changes.push(Found {
                        seq: 0,
                        at,
                        created: before.is_none(),
                    });
                }
            }
            // The items left are gone from the content: their names are
            // read again, for them alone.
            let mut gone: Vec<(String, String, String, String)> = Vec::new();
            if !was.is_empty() {
                let mut rows = sqlx::query_as::<_, (String, String, String, String)>(
                    "SELECT article, lang, kind, item_id FROM content_items",
                )
                .fetch(&mut *tx);
                while let Some((article, lang, kind, id)) = rows.try_next().await? {
                    if was.contains_key(&item_key(&article, &lang, &kind, &id)) {
                        gone.push((article, lang, kind, id));
                    }
                }
            }
            gone.sort();
            let given = items.len() as u32;
            changes.extend((given..).zip(&gone).map(|(at, _)| Found {
                seq: 0,
                at,
                created: false,
            }));
            let change = |found: &Found| match items.get(found.at as usize) {
                Some(item) => NewChange {
                    seq: found.seq,
                    article: item.article,
                    lang: item.lang,
                    kind: item.kind,
                    item_id: item.id,
                    digest: Some(item.digest()),
                    created: found.created,
                },
                None => {
                    let (article, lang, kind, id) = &gone[found.at as usize - items.len()];
                    NewChange {
                        seq: found.seq,
                        article,
                        lang,
                        kind,
                        item_id: id,
                        digest: None,
                        created: false,
                    }
                }
            };

            for chunk in changes.chunks_mut(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO content_changes (article, lang, kind, item_id, digest, recorded_at) ",
                );
                insert.push_values(chunk.iter().map(change), |mut row, change| {
                    row.push_bind(change.article)
                        .push_bind(change.lang)
                        .push_bind(change.kind)
                        .push_bind(change.item_id)
                        .push_bind(change.digest)
                        .push_bind(now);
                });
                insert.push(" RETURNING seq");
                let mut numbers: Vec<i64> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
                // Rows are numbered in the order they were given.
                numbers.sort_unstable();
                for (change, seq) in chunk.iter_mut().zip(numbers) {
                    change.seq = seq;
                }

                let (present, deleted): (Vec<NewChange>, Vec<NewChange>) = chunk
                    .iter()
                    .map(change)
                    .partition(|change| change.digest.is_some());
                if !present.is_empty() {
                    let mut upsert = sqlx::QueryBuilder::new(
                        "INSERT INTO content_items (article, lang, kind, item_id, digest) ",
                    );
                    upsert.push_values(present, |mut row, change| {
                        row.push_bind(change.article)
                            .push_bind(change.lang)
                            .push_bind(change.kind)
                            .push_bind(change.item_id)
                            .push_bind(change.digest);
                    });
                    upsert.push(
                        " ON CONFLICT (article, lang, kind, item_id) \
                         DO UPDATE SET digest = excluded.digest",
                    );
                    upsert.build().execute(&mut *tx).await?;
                }
                for change in deleted {
                    sqlx::query(
                        "DELETE FROM content_items \
                         WHERE article = $1 AND lang = $2 AND kind = $3 AND item_id = $4",
                    )
                    .bind(change.article)
                    .bind(change.lang)
                    .bind(change.kind)
                    .bind(change.item_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for event in announce(&epoch, before, &mut changes.iter().map(change)) {
                super::outbox::announce!(tx, begin, &event);
            }
            let seq: i64 = sqlx::query_scalar(LAST_SEQ).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Recorded {
                epoch,
                seq,
                changes: changes.len(),
            })
        })?;
        if recorded.changes > 0 {
            self.announced();
        }
        Ok(recorded)
    }

    /// The last change of each item in `query`'s range, in order of their
    /// numbers; [`Changes::Forgotten`] when the range starts before the
    /// history kept, or the history is not the one named.
    pub async fn content_changes(&self, query: &ChangeQuery<'_>) -> Result<Changes, ReplyError> {
        let (_, changes) = on_pool!(self, "reading content changes", |pool, _begin| {
            let mut tx = pool.begin().await?;
            let history: History =
                sqlx::query_as("SELECT floor, epoch FROM content_history WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
            let last: i64 = sqlx::query_scalar(LAST_SEQ).fetch_one(&mut *tx).await?;
            if history.epoch.as_deref() != Some(query.epoch)
                || query.from < history.floor
                || query.from > last
            {
                return Ok(Changes::Forgotten);
            }
            let found: Vec<ContentChange> = sqlx::query_as(
                "SELECT c.seq, c.article, c.lang, c.kind, c.item_id, c.digest \
                 FROM content_changes c \
                 WHERE c.seq > $1 AND c.seq <= $2 \
                   AND ($3 IS NULL OR c.lang = $3) AND ($4 IS NULL OR c.kind = $4) \
                   AND NOT EXISTS (SELECT 1 FROM content_changes later \
                       WHERE later.article = c.article AND later.lang = c.lang \
                         AND later.kind = c.kind AND later.item_id = c.item_id \
                         AND later.seq > c.seq AND later.seq <= $5) \
                 ORDER BY c.seq LIMIT $6",
            )
            .bind(query.from.max(query.after))
            .bind(query.upto)
            .bind(query.lang)
            .bind(query.kind)
            .bind(query.upto)
            .bind(to_i64(query.limit))
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Changes::Found(found))
        })?;
        Ok(changes)
    }
}

/// The number of the last change recorded (the floor when every change
/// has been forgotten).
const LAST_SEQ: &str = "SELECT MAX(n) FROM (SELECT MAX(seq) AS n FROM content_changes \
     UNION ALL SELECT floor AS n FROM content_history WHERE id = 1) AS known";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_named_alike_but_split_differently_have_different_keys() {
        let key = item_key("a", "en", "benefit", "one");
        assert_eq!(key, item_key("a", "en", "benefit", "one"));
        assert_ne!(key, item_key("a", "en", "benefit", "two"));
        assert_ne!(
            item_key("ab", "c", "faq", "x"),
            item_key("a", "bc", "faq", "x")
        );
    }

    #[test]
    fn a_stored_digest_matches_only_the_same_digest_in_todays_form() {
        let digest = *b"0123456789abcdef0123456789abcdef";
        assert!(StoredDigest::of("0123456789abcdef0123456789abcdef").is(&digest));
        assert!(!StoredDigest::of("0123456789abcdef0123456789abcdee").is(&digest));
        // A digest of another length (an older form) is never today's.
        let longer = "0123456789abcdef".repeat(4);
        assert_eq!(StoredDigest::of(&longer), StoredDigest::Other);
        assert!(!StoredDigest::of(&longer).is(&digest));
        // Nor is one of today's length that is not hex.
        assert_eq!(StoredDigest::of(&"+".repeat(32)), StoredDigest::Other);
    }
}
