//! Building the server: load and prepare everything once, then hand each
//! worker cheap shared handles to it. The one place routes are registered.

use std::net::TcpListener;

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::{ResourceDef, Server},
    web,
};
use utoipa::openapi::{OpenApi, PathItem};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::{
    config::Config,
    content::{ContentError, Store},
    error::{ApiError, problem_renderer},
    openapi,
    representation::{CachePolicy, Representation, exact},
    routes,
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    articles: usize,
    server: Server,
}

impl Application {
    /// Loads the content and binds the listener; fails on bad content or a taken port.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        let started = std::time::Instant::now();
        let store = Store::load(&config.content_source())?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            articles = store.len(),
            "content loaded and prepared"
        );
        let listener = TcpListener::bind(config.bind).map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?;
        let bind_error = |source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        };
        let port = listener.local_addr().map_err(bind_error)?.port();
        let articles = store.len();
        let cache = CachePolicy::new(config.cache_max_age, config.cache_stale_while_revalidate);
        let server = serve(store, cache, listener, config.workers).map_err(bind_error)?;
        Ok(Self {
            port,
            articles,
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many articles are served.
    pub fn articles(&self) -> usize {
        self.articles
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The OpenAPI document, pretty-printed and prepared once at start.
struct Spec(Representation);

fn serve(
    store: Store,
    cache: CachePolicy,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let store = web::Data::new(store);
    let warm = store.clone();
    std::thread::Builder::new()
        .name("compress".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            warm.compress_all();
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                "compressed variants ready"
            );
        })?;
    let document = openapi::document();
    let methods = web::Data::new(MethodTable::new(&document));
    let spec = web::Data::new(Spec(Representation::new(exact(
        openapi::document_json().into_bytes(),
    ))));
    let cache = web::Data::new(cache);

    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(problem_renderer())
            .app_data(store.clone())
            .app_data(methods.clone())
            .app_data(spec.clone())
            .app_data(cache.clone())
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app()
            .service(
                web::resource("/openapi.json")
                    .route(web::get().to(spec_view))
                    .route(web::head().to(spec_view)),
            )
            .service(web::redirect("/docs", "/docs/"))
            .service(SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::new(["/openapi.json"])))
            .default_service(web::to(fallback))
    })
    .listen(listener)?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

async fn spec_view(req: HttpRequest, spec: web::Data<Spec>) -> HttpResponse {
    spec.0.respond(&req, "application/json")
}

/// Which methods each documented path allows, to tell a wrong method (405)
/// from a wrong path (404).
struct MethodTable(Vec<(ResourceDef, String)>);

impl MethodTable {
    fn new(document: &OpenApi) -> Self {
        let table = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| (ResourceDef::new(path.as_str()), allow(item)))
            .collect();
        Self(table)
    }

    fn allowed(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, allow)| allow.as_str())
    }
}

/// The `Allow` header value for a path: its documented methods, and `HEAD` with `GET`.
fn allow(item: &PathItem) -> String {
    let operations = [
        ("GET, HEAD", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
    ];
    operations
        .iter()
        .filter(|(_, present)| *present)
        .map(|(method, _)| *method)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn fallback(
    request: HttpRequest,
    methods: web::Data<MethodTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match methods.allowed(request.path()) {
        Some(allow) => ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allow: allow.to_owned(),
        },
        None => ApiError::not_found(format!("no resource at `{}`", request.path())),
    })
}
