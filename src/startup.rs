//! Building the server: load and prepare everything once, then hand each
//! worker cheap shared handles to it, and run it. Reloading is `reload`'s.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{
    App, HttpServer,
    dev::Server,
    http::{KeepAlive, header::HeaderValue},
    web,
};
use utoipa_actix_web::AppExt;

use crate::{
    abuse::{ReplyRateLimit, TrustedProxies},
    auth::{Moderators, TokensFileError},
    config::Config,
    content::ContentError,
    events::{LatestEvent, StopSwitch, Stopping},
    http::{
        cache::CachePolicy,
        edge::{self, Edge, Limits},
        problem::problem_renderer,
        representation::{Representation, exact},
        response_cache::ResponseCache,
    },
    metrics::Metrics,
    openapi,
    reload::{Reloader, WatchError, prepare, reload_on_sighup, restamp_daily, watch},
    replies::{Database, DatabaseTlsError, DatabaseUrlError, guard::Secret},
    routes::{
        self,
        docs::Spec,
        fallback::{MethodTable, route_templates},
    },
    search::{PoolError, SearchPool},
    store::{LiveContent, Store},
    sync::{self, ContentHistory},
    webhooks::{self, Endpoints, Retries, WebhooksFileError},
};

/// The bytes of reader pages kept rendered: about 800 pages of the source
/// article's size, with their compressed variants.
const PAGE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Makes ring rustls's crypto, for every TLS client the process builds
/// (PostgreSQL, webhook endpoints, the OTLP exporter): a client built
/// before it is chosen would panic. Only the first call counts.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Holds glibc's malloc to two arenas, as `MALLOC_ARENA_MAX=2` would,
/// unless that variable is set: by default glibc gives every thread that
/// allocates under contention an arena of its own (up to eight per core),
/// and each keeps what its thread freed, which took the peak at 10,000
/// articles from about 290 MB to over 300 MB (see bench/README.md). The
/// Docker image sets the variable too; this makes `cargo run` the same.
/// Call it first in `main`, before threads allocate.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` only sets a parameter of the allocator, which
        // glibc reads under its own lock; nothing else is touched.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Why the server could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Database(#[from] DatabaseUrlError),
    #[error(transparent)]
    DatabaseTls(#[from] DatabaseTlsError),
    #[error(transparent)]
    Tokens(#[from] TokensFileError),
    #[error(transparent)]
    Webhooks(#[from] WebhooksFileError),
    #[error(transparent)]
    SearchPool(#[from] PoolError),
}

/// A server bound to its port, ready to run.
pub struct Application {
    addr: std::net::SocketAddr,
    port: u16,
    server: Server,
    reloader: Reloader,
    watch: bool,
    replies: Replies,
}

/// What the replies resources share between workers.
#[derive(Clone)]
struct Replies {
    db: web::Data<Database>,
    moderators: web::Data<Moderators>,
    rate: web::Data<ReplyRateLimit>,
    proxies: web::Data<TrustedProxies>,
    secret: web::Data<Secret>,
}

impl Replies {
    fn new(config: &Config) -> Result<Self, StartupError> {
        let moderators = Moderators::load(config.moderator_tokens_file.as_deref())?;
        let db = web::Data::new(Database::connect(
            &config.database_url,
            config.database_ca_file.as_deref(),
        )?);
        if db.is_shared() && config.secret.is_none() {
            tracing::warn!(
                "no --secret: each replica signs reply forms and edit tokens with its own, so a \
                 form served by one and posted to another is taken for spam; give every replica \
                 the same --secret"
            );
        }
        // Instances on one PostgreSQL database share one limit.
        let rate = if db.is_shared() {
            ReplyRateLimit::shared(config.reply_rate_per_minute, db.clone().into_inner())
        } else {
            ReplyRateLimit::per_minute(config.reply_rate_per_minute)
        };
        Ok(Self {
            db,
            moderators: web::Data::new(moderators),
            rate: web::Data::new(rate),
            proxies: web::Data::new(TrustedProxies(config.trusted_proxies.clone())),
            secret: web::Data::new(
                config
                    .secret
                    .as_deref()
                    .map_or_else(Secret::random, Secret::from_passphrase),
            ),
        })
    }
}

impl Application {
    /// Loads the content, readies the replies database and binds the
    /// listener; fails on bad content or settings, or a taken port. A
    /// database that cannot be reached is not fatal: replies answer 503
    /// until it can, and content is served meanwhile.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        install_crypto_provider();
        let started = std::time::Instant::now();
        let source = config.content_source();
        let store = Store::load(&source)?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            articles = store.len(),
            revision = store.revision(),
            "content loaded and prepared"
        );
        let metrics = web::Data::new(Metrics::new());
        metrics.content_served(store.revision(), store.len());
        let content = web::Data::new(LiveContent::new(store, source));
        prepare(Arc::clone(&content.current()));
        let cache_policy =
            CachePolicy::new(config.cache_max_age, config.cache_stale_while_revalidate);
        let (hits, misses) = metrics.response_cache();
        let responses = Arc::new(ResponseCache::new(
            config.response_cache_bytes,
            content.clone().into_inner(),
            hits,
            misses,
        ));

        let bind_error = |source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        };
        let listener = TcpListener::bind(config.bind).map_err(bind_error)?;
        let listener_addr = listener.local_addr().map_err(bind_error)?;
        let port = listener_addr.port();
        let replies = Replies::new(config)?;
        replies.db.check_tls().await?;
        let (swapped, swaps) = tokio::sync::watch::channel(());
        let reloader = Reloader::new(
            content.clone(),
            metrics.clone(),
            replies.moderators.clone(),
            Arc::clone(&responses),
            Arc::new(swapped),
        );
        let endpoints = Arc::new(Endpoints::load(config.webhooks_file.as_deref())?);
        if !endpoints.is_empty() {
            tracing::info!(endpoints = endpoints.len(), "webhooks are on");
        }
        let (latest, events) = tokio::sync::watch::channel(0);
        tokio::spawn(webhooks::deliver_forever(
            replies.db.clone().into_inner(),
            endpoints,
            Retries {
                max_attempts: config.webhook_max_attempts,
                first_pause: Duration::from_secs(1),
            },
            metrics.clone().into_inner(),
            latest,
        ));
        let events = web::Data::new(LatestEvent(events));
        let history = web::Data::new(ContentHistory::default());
        tokio::spawn(sync::record_forever(
            content.clone().into_inner(),
            history.clone().into_inner(),
            replies.db.clone().into_inner(),
            config.sync_history,
            swaps,
        ));
        // Migrations run now, beside the start rather than before it: a
        // database that is down holds up neither the start nor the content;
        // each replies request tries again.
        let db = replies.db.clone();
        actix_web::rt::spawn(async move { db.ready().await });
        if replies.db.is_shared() {
            let db = replies.db.clone();
            // On tokio's scheduler, not actix's local set: the listener's
            // connection must be dropped inside the runtime, which tokio
            // ensures for its own tasks when it shuts down.
            tokio::spawn(async move { db.listen_for_changes().await });
        }
        let searches = SearchPool::for_this_machine()?;
        let server = serve(
            config,
            content,
            history,
            events,
            metrics,
            replies.clone(),
            responses,
            cache_policy,
            searches,
            listener,
        )
        .map_err(bind_error)?;
        Ok(Self {
            addr: listener_addr,
            port,
            server,
            reloader,
            watch: config.watch,
            replies,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many articles are served.
    pub fn articles(&self) -> usize {
        self.reloader.content().current().len()
    }

    /// The content revision served.
    pub fn revision(&self) -> String {
        self.reloader.content().current().revision().to_owned()
    }

    /// A handle that reloads the content.
    pub fn reloader(&self) -> Reloader {
        self.reloader.clone()
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish
    /// (within the grace period). Reloads the content on SIGHUP and, with
    /// `--watch`, when its files change; recomputes review statuses after
    /// each midnight UTC.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        reload_on_sighup(self.reloader.clone());
        tokio::spawn(restamp_daily(self.reloader.clone()));
        prepare_replies(&self.replies);
        let _watcher = if self.watch {
            Some(watch(self.reloader.clone())?)
        } else {
            None
        };
        // Said only now that SIGHUP is handled: a reload sent on seeing this
        // line must not meet the default action, which ends the process.
        tracing::info!(
            "listening on http://{} with {} article(s) from {} (revision {})",
            self.addr,
            self.articles(),
            self.reloader.content().source(),
            self.revision()
        );
        let server = self.server;
        server.await.map_err(StartupError::Serve)
    }
}

/// Says whether moderation is on, and forgets idle clients of the rate
/// limit every minute.
fn prepare_replies(replies: &Replies) {
    let tokens = replies.moderators.current();
    if tokens.is_empty() {
        tracing::warn!("no moderator tokens (--moderator-tokens-file): moderation answers 503");
    } else {
        tracing::info!(tokens = tokens.len(), "moderation is on");
    }
    let rate = replies.rate.clone();
    actix_web::rt::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            rate.forget_idle().await;
        }
    });
}

/// Waits for SIGTERM or SIGINT (Ctrl-C), then pulls `stop`, so that live
/// streams end, and lets actix-web stop gracefully: it stops accepting,
/// closes idle connections and gives requests in flight the grace period.
/// Handled here rather than by actix-web, which cannot tell the streams, and
/// which stops at once, dropping requests in flight, on SIGINT.
async fn stop_signal(stop: StopSwitch) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                tracing::info!("{name} received: stopping, within the grace period");
            }
            (Err(error), _) | (_, Err(error)) => {
                tracing::error!(%error, "cannot handle SIGTERM and SIGINT");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("Ctrl-C received: stopping, within the grace period");
    }
    stop.pull();
}

#[allow(clippy::too_many_arguments)] // each is one shared piece, built once
fn serve(
    config: &Config,
    content: web::Data<LiveContent>,
    history: web::Data<ContentHistory>,
    events: web::Data<LatestEvent>,
    metrics: web::Data<Metrics>,
    replies: Replies,
    responses: Arc<ResponseCache>,
    cache_policy: CachePolicy,
    searches: SearchPool,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let document = openapi::document();
    let methods = web::Data::new(MethodTable::new(&document));
    let (stop, stopping) = Stopping::new();
    let stopping = web::Data::new(stopping);
    // An origin that may write may read what it wrote.
    let origins: Vec<String> = config
        .cors_allowed_origins
        .iter()
        .chain(&config.write_origins)
        .cloned()
        .collect();
    let header_values = |origins: &[String]| -> Vec<HeaderValue> {
        origins
            .iter()
            .filter(|origin| origin.as_str() != "*")
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect()
    };
    let edge = web::Data::new(Edge {
        limits: Limits {
            max_url_bytes: config.max_url_bytes,
            max_header_bytes: config.max_header_bytes,
        },
        any_origin: edge::any_origin(&origins),
        named_origins: header_values(&origins),
        write_origins: header_values(&config.write_origins),
        metrics: metrics.clone(),
        templates: route_templates(&document),
        responses,
    });
    let spec = web::Data::new(Spec(Representation::new(exact(
        openapi::document_json().into_bytes(),
    ))));
    let docs = web::Data::new(routes::docs::DocsFiles::prepare());
    let cache = web::Data::new(cache_policy);
    let body_deadline = routes::params::BodyDeadline(Duration::from_secs(config.body_timeout));
    let pages = web::Data::new(routes::PageCache::new(PAGE_CACHE_BYTES));
    let searches = web::Data::new(searches);

    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(content.clone())
            .app_data(history.clone())
            .app_data(events.clone())
            .app_data(stopping.clone())
            .app_data(metrics.clone())
            .app_data(methods.clone())
            .app_data(spec.clone())
            .app_data(docs.clone())
            .app_data(cache.clone())
            .app_data(replies.db.clone())
            .app_data(replies.moderators.clone())
            .app_data(replies.rate.clone())
            .app_data(replies.proxies.clone())
            .app_data(replies.secret.clone())
            .app_data(body_deadline)
            .app_data(pages.clone())
            .app_data(searches.clone())
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app()
            // Innermost first: the last `wrap` sees the request first. The
            // edge is outermost: what it answers from the response cache
            // (kept with the CORS headers it was given) passes nothing else.
            // The problem renderer is outside CORS so that a refused
            // preflight is a problem too.
            .wrap(edge::cors(&origins))
            .wrap(problem_renderer())
            .wrap(edge::EdgeLayer(edge.clone()))
    })
    .client_request_timeout(Duration::from_secs(config.client_timeout))
    .keep_alive(match config.keep_alive {
        0 => KeepAlive::Disabled,
        seconds => KeepAlive::Timeout(Duration::from_secs(seconds)),
    })
    .shutdown_timeout(config.shutdown_grace_period)
    .shutdown_signal(stop_signal(stop))
    .listen(listener)?;
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
