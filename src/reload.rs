//! Reloading the content while serving: one [`Reloader`] that SIGHUP, the
//! file watcher (`--watch`) and tests all go through, and the preparation
//! (search index, compressed variants) every new content set gets.

use std::{sync::Arc, time::Duration};

use actix_web::web;

use crate::{
    auth::Moderators,
    content::{ContentSource, Date},
    http::response_cache::ResponseCache,
    metrics::Metrics,
    store::{LiveContent, Store},
};

/// The content directory cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {dir}: {reason}")]
pub struct WatchError {
    dir: String,
    reason: String,
}

/// Reloads the live content (and the moderator tokens) and reports how it
/// went: in the log, in the metrics. SIGHUP, the file watcher and tests all
/// reload through it.
#[derive(Clone)]
pub struct Reloader {
    content: web::Data<LiveContent>,
    metrics: web::Data<Metrics>,
    moderators: web::Data<Moderators>,
    responses: Arc<ResponseCache>,
    /// Told of each content set swapped in (the content history records it).
    swapped: Arc<tokio::sync::watch::Sender<()>>,
}

impl Reloader {
    /// The content it reloads.
    pub fn content(&self) -> &LiveContent {
        &self.content
    }

    pub(crate) fn new(
        content: web::Data<LiveContent>,
        metrics: web::Data<Metrics>,
        moderators: web::Data<Moderators>,
        responses: Arc<ResponseCache>,
        swapped: Arc<tokio::sync::watch::Sender<()>>,
    ) -> Self {
        Self {
            content,
            metrics,
            moderators,
            responses,
            swapped,
        }
    }

    /// Loads the content anew; serves it if valid, else keeps what is served.
    /// Blocking. Returns whether the new content is now served.
    pub fn reload(&self) -> bool {
        match self.moderators.reload() {
            Ok(None) => {}
            Ok(Some(tokens)) => tracing::info!(tokens, "moderator tokens reloaded"),
            Err(error) => tracing::error!(
                "moderator tokens not reloaded; the previous ones stay in use\n{error}"
            ),
        }
        let started = std::time::Instant::now();
        match self.content.reload() {
            Ok(store) => {
                self.metrics.reloaded(true);
                tracing::info!(
                    revision = store.revision(),
                    articles = store.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "content reloaded"
                );
                self.swapped_in(store);
                true
            }
            Err(error) => {
                self.metrics.reloaded(false);
                tracing::error!(
                    "content reload failed; still serving the previous content\n{error}"
                );
                false
            }
        }
    }
}

impl Reloader {
    /// Serves the review statuses as of `today` (see [`Store::restamped`]);
    /// returns whether any had changed. Blocking.
    pub fn restamp(&self, today: Date) -> bool {
        let Some(store) = self.content.restamp(today) else {
            return false;
        };
        tracing::info!(
            revision = store.revision(),
            %today,
            "review statuses moved on with the date"
        );
        self.swapped_in(store);
        true
    }

    /// What follows every swap: the metrics, the response cache, the
    /// content history, the search index and compressed variants.
    fn swapped_in(&self, store: Arc<Store>) {
        self.metrics.content_served(store.revision(), store.len());
        self.responses.clear();
        self.swapped.send_replace(());
        prepare(store);
    }
}

/// Recomputes the review statuses just after each midnight UTC, for the
/// life of the server: a review falls due without anyone touching a file.
pub(crate) async fn restamp_daily(reloader: Reloader) {
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let into_day = now.as_secs() % 86_400;
        tokio::time::sleep(Duration::from_secs(86_400 - into_day + 1)).await;
        let reloader = reloader.clone();
        let today = Date::today();
        if let Err(error) = tokio::task::spawn_blocking(move || reloader.restamp(today)).await {
            tracing::error!("review statuses not recomputed: {error}");
        }
    }
}

/// Content up to this size is indexed for search and compressed before it
/// is served (a few milliseconds). Larger content sets are indexed on a
/// background thread, so that start-up stays short (10,000 articles take
/// seconds), and each body's compressed variants are made when a client
/// first asks for one: compressing every body of 10,000 articles up front
/// took 10 s of CPU and 130 MB that clients may never ask for.
const PREPARE_BEFORE_SERVING_BYTES: usize = 4 << 20;

/// Builds the search index and, for small content, the compressed
/// variants of every response: small content before it is served, a large
/// content set's index on a background thread (its variants are made as
/// clients ask).
pub(crate) fn prepare(store: Arc<Store>) {
    let small = store.prepared_bytes() <= PREPARE_BEFORE_SERVING_BYTES;
    let work = move || {
        let started = std::time::Instant::now();
        store.index_for_search();
        return_freed_memory();
        if let Some(index) = store.search_index() {
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                documents = index.documents(),
                "search index ready"
            );
        }
        if !small {
            tracing::info!(
                bytes = store.prepared_bytes(),
                "compressed variants are made as clients first ask for them (a large content set)"
            );
            return;
        }
        let started = std::time::Instant::now();
        store.compress_all();
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "compressed variants ready"
        );
    };
    if small {
        work();
        return;
    }
    if let Err(error) = std::thread::Builder::new()
        .name("prepare".into())
        .spawn(work)
    {
        // Search answers 503 until a reload.
        tracing::warn!("cannot start the thread that indexes the content: {error}");
    }
}

/// Hands back to the system the memory glibc's malloc holds free, once a
/// large passing need is over (building the search index): glibc keeps
/// what was freed for the next allocation, and the content history's first
/// record, which comes next, then peaked on top of it.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases free pages, under the
    // allocator's own locks; no allocation is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub(crate) fn reload_on_sighup(reloader: Reloader) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(error) => {
            tracing::warn!("cannot listen for SIGHUP; reload by restarting: {error}");
            return;
        }
    };
    actix_web::rt::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading content and moderator tokens");
            let reloader = reloader.clone();
            let _ = actix_web::rt::task::spawn_blocking(move || reloader.reload()).await;
        }
    });
}

/// Watches the content directory; a burst of changes becomes one reload.
/// Only changes count: reading the files (as a reload does) must not
/// trigger another reload.
pub(crate) fn watch(reloader: Reloader) -> Result<notify::RecommendedWatcher, WatchError> {
    use notify::{Event, EventKind, RecursiveMode, Watcher};
    const QUIET: Duration = Duration::from_millis(300);

    let ContentSource::Dir { path: dir, .. } = reloader.content().source().clone() else {
        return Err(WatchError {
            dir: "embedded content".into(),
            reason: "pass --content-dir DIR to watch a directory".into(),
        });
    };
    let watch_error = |reason: String| WatchError {
        dir: dir.display().to_string(),
        reason,
    };
    let (changes, changed) = std::sync::mpsc::channel::<()>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<Event>| match event {
            Ok(event)
                if matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                ) =>
            {
                let _ = changes.send(());
            }
            Ok(_) => {}
            Err(error) => tracing::warn!("watching the content failed: {error}"),
        })
        .map_err(|e| watch_error(e.to_string()))?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(|e| watch_error(e.to_string()))?;
    std::thread::Builder::new()
        .name("content-watch".into())
        .spawn(move || {
            // Ends when the watcher, and with it the sender, is dropped.
            while changed.recv().is_ok() {
                while changed.recv_timeout(QUIET).is_ok() {}
                tracing::info!("content files changed: reloading");
                reloader.reload();
            }
        })
        .map_err(|e| watch_error(e.to_string()))?;
    tracing::info!(dir = %dir.display(), "watching the content for changes");
    Ok(watcher)
}
