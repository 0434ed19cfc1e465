//! The edge: what every request passes through before and after its
//! handler, outermost first: the [`EdgeLayer`] (request id, limits,
//! cross-origin writes, the response cache, security headers, metrics,
//! access log), then CORS for reading (see [`cors`]). Its settings come as
//! values ([`Limits`], the origins); it knows nothing of the content.

use std::{
    borrow::Cow,
    future::{Future, Ready, ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
    time::Instant,
};

use actix_cors::{Cors, CorsError};
use actix_utils::future::Either;
use actix_web::{
    Error, HttpRequest, HttpResponse,
    body::{BoxBody, EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
    web,
};

use super::{
    problem,
    response_cache::{Key, ResponseCache, Stored},
    trace::{TraceId, TraceParent},
};
use tracing::Instrument as _;

use crate::{
    metrics::Metrics,
    telemetry::{self, AccessLine},
};

/// The request id header: taken from the client when valid, else generated.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Routes too frequent and too dull for the info-level access log.
const PROBES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Limits on what a request may be, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_url_bytes: usize,
    pub max_header_bytes: usize,
}

/// What the edge needs, shared by the workers: the limits, the metrics, the
/// route templates and the response cache.
pub struct Edge {
    pub limits: Limits,
    /// Whether any origin may read the API (see [`any_origin`]).
    pub any_origin: bool,
    /// The origins allowed to read it, when not any.
    pub named_origins: Vec<HeaderValue>,
    /// The origins whose pages may write (post, moderate) from a browser,
    /// besides the server's own (see [`Edge::cross_origin_write`]).
    pub write_origins: Vec<HeaderValue>,
    pub metrics: web::Data<Metrics>,
    pub templates: RouteTemplates,
    pub responses: Arc<ResponseCache>,
}

impl Edge {
    /// Lets a named origin read a refusal the edge makes itself, which CORS
    /// (inside the edge) does not see: as actix-cors answers that origin.
    fn allow_named_origin(&self, request: &HeaderMap, response: &mut HeaderMap) {
        let Some(origin) = request
            .get(header::ORIGIN)
            .filter(|origin| self.named_origins.contains(origin))
        else {
            return;
        };
        allow_origin(response, origin.clone());
        response.insert(header::VARY, HeaderValue::from_static("Origin"));
    }

    /// A browser on another origin asking to write: a request with, or a
    /// preflight for, POST, PATCH or DELETE, sent with an `Origin`. Reading
    /// is open, but a page on any origin could otherwise make its visitors'
    /// browsers post replies (a form post needs no preflight). An origin
    /// listed in `--write-origins`, or the server's own (the reader page's
    /// form), is let through and its preflight answered; any other gets 403.
    /// Requests without `Origin` (native apps, servers) are not browsers'
    /// cross-origin writes and pass.
    fn cross_origin_write(&self, req: &ServiceRequest) -> Option<CrossOriginWrite> {
        let origin = req.headers().get(header::ORIGIN)?;
        let preflight = req.method() == Method::OPTIONS;
        let method = if preflight {
            req.headers()
                .get(header::ACCESS_CONTROL_REQUEST_METHOD)?
                .as_bytes()
        } else {
            req.method().as_str().as_bytes()
        };
        if !matches!(method, b"POST" | b"PATCH" | b"DELETE" | b"PUT") {
            return None;
        }
        if self.write_origins.contains(origin) || same_origin(origin, req) {
            return preflight.then(|| CrossOriginWrite::Preflight(write_preflight(origin)));
        }
        let shown = clip(origin.to_str().unwrap_or("(not text)"), MAX_LOGGED_ORIGIN);
        Some(CrossOriginWrite::Refused(problem::refusal(
            StatusCode::FORBIDDEN,
            format!(
                "a page on `{shown}` may read this API but not write to it from a browser; \
                 the origins that may are listed in the server's --write-origins"
            ),
        )))
    }
}

/// What the edge answers a browser's cross-origin write with itself.
enum CrossOriginWrite {
    /// The preflight of an origin that may write.
    Preflight(HttpResponse),
    /// A 403 for an origin that may not.
    Refused(HttpResponse),
}

/// Whether `origin` (`scheme://host[:port]`) is the host the request was
/// sent to: the reader page posting its own form.
fn same_origin(origin: &HeaderValue, req: &ServiceRequest) -> bool {
    let Some((_, authority)) = origin.to_str().ok().and_then(|o| o.split_once("://")) else {
        return false;
    };
    authority.eq_ignore_ascii_case(req.connection_info().host())
}

/// The answer to a write preflight from an origin that may write.
fn write_preflight(origin: &HeaderValue) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, HEAD, POST, PATCH, DELETE",
        ))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            ALLOWED_HEADERS_LIST.clone(),
        ))
        .insert_header((
            header::ACCESS_CONTROL_MAX_AGE,
            PREFLIGHT_MAX_AGE.to_string(),
        ))
        .insert_header((header::VARY, "Origin"));
    response.finish()
}

/// The edge of the app, the outermost middleware, one layer so that every
/// request pays for one, not four: it gives the request an id (echoed in
/// `X-Request-Id`), refuses what no resource should see (a URL over the
/// limit: 414, headers over the limit: 431, a body sent to a method that
/// takes none: 413), answers from the [`ResponseCache`] what it can (and
/// keeps what it may), adds the headers every response carries (security,
/// CORS), counts the request in the metrics and logs one access line for it
/// (saying whether the cache answered).
///
/// A service of its own rather than a `from_fn` closure: a refusal or an
/// answer from the cache is made within `call`, without a future to box or
/// any other layer to pass; only what goes on to the app is awaited.
pub struct EdgeLayer(pub web::Data<Edge>);

impl<S, B> Transform<S, ServiceRequest> for EdgeLayer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Transform = EdgeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EdgeService {
            service: Rc::new(service),
            edge: self.0.clone(),
        }))
    }
}

/// The [`EdgeLayer`] around one worker's app.
pub struct EdgeService<S> {
    service: Rc<S>,
    edge: web::Data<Edge>,
}

impl<S, B> Service<ServiceRequest> for EdgeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Future = Either<
        Ready<Result<Self::Response, Error>>,
        Pin<Box<dyn Future<Output = Result<Self::Response, Error>>>>,
    >;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let (id, drawn) = request_id(&req);
        let trace = trace_of(&req, drawn);
        let (span, trace_id) = telemetry::request_span(
            clip(req.method().as_str(), MAX_LOGGED_METHOD),
            trace.id.0,
            trace
                .parent
                .map(|parent| (parent.parent_id.0, parent.flags)),
        );
        let request = Facts {
            started: Instant::now(),
            id,
            trace: Trace {
                id: TraceId(trace_id),
                ..trace
            },
            span,
            method: req.method().clone(),
        };
        let edge = &self.edge;
        let refused = match edge.cross_origin_write(&req) {
            Some(CrossOriginWrite::Preflight(preflight)) => {
                let mut response = req.into_response(preflight).map_into_right_body();
                finish(edge, &request, None, false, &mut response);
                return Either::left(ready(Ok(response)));
            }
            Some(CrossOriginWrite::Refused(refusal)) => Some(refusal),
            None => refusal(&req, edge.limits),
        };
        if let Some(refusal) = refused {
            let mut problem = problem::problem_response(req.path(), req.query_string(), refusal);
            edge.allow_named_origin(req.headers(), problem.headers_mut());
            let mut response = req.into_response(problem).map_into_right_body();
            finish(edge, &request, None, false, &mut response);
            return Either::left(ready(Ok(response)));
        }
        let key = edge.responses.key(&req);
        if let Some(stored) = key.as_deref().and_then(|key| edge.responses.get(key)) {
            let mut response = req.into_response(stored.response()).map_into_right_body();
            finish(edge, &request, Some(&stored), true, &mut response);
            return Either::left(ready(Ok(response)));
        }
        let edge = self.edge.clone();
        // The handler runs in the request's span, so that its database
        // calls are the span's children.
        let answer = request.span.in_scope(|| self.service.call(req));
        let span = request.span.clone();
        Either::right(Box::pin(
            async move {
                let _in_flight = InFlight::enter(&edge.metrics);
                let response = answer.await?;
                let (mut response, kept) = match key {
                    Some(key) => keep(&edge, key, &request.method, response),
                    None => (response.map_into_left_body(), None),
                };
                finish(&edge, &request, kept.as_ref(), false, &mut response);
                Ok(response)
            }
            .instrument(span),
        ))
    }
}

/// What the edge notes of a request before answering it.
struct Facts {
    started: Instant,
    id: HeaderValue,
    /// The caller's trace (`traceparent`), or a new one.
    trace: Trace,
    /// The request's span, exported when tracing is on.
    span: tracing::Span,
    method: Method,
}

/// The trace a request belongs to: the caller's, or one of its own.
#[derive(Debug, Clone, Copy)]
pub struct Trace {
    pub id: TraceId,
    /// The caller's span, when it sent a valid `traceparent`.
    pub parent: Option<TraceParent>,
}

/// The request's `traceparent` when valid (an invalid one is ignored, as
/// the recommendation says), else a new trace: `drawn`, the random bytes of
/// the request id made for this request if one was (one draw for both, and
/// the trace id is then the request id's digits), else new ones.
fn trace_of(req: &ServiceRequest, drawn: Option<[u8; 16]>) -> Trace {
    let parent = req
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<TraceParent>().ok());
    let new = || drawn.map_or_else(TraceId::random, TraceId);
    Trace {
        id: parent.map_or_else(new, |parent| parent.trace_id),
        parent,
    }
}

/// Gives a response its request id and the headers every response carries
/// (those kept in the cache have them already), counts it and logs it.
fn finish<B: MessageBody>(
    edge: &Edge,
    request: &Facts,
    kept: Option<&Arc<Stored>>,
    cached: bool,
    response: &mut ServiceResponse<B>,
) {
    let headers = response.headers_mut();
    headers.insert(REQUEST_ID, request.id.clone());
    if kept.is_none() {
        every_response(headers, edge.any_origin);
    }
    let status = response.status().as_u16();
    let elapsed = request.started.elapsed();
    let route = match kept {
        Some(stored) => {
            stored.route().observe(elapsed.as_secs_f64());
            Cow::Borrowed(stored.route().route())
        }
        None => {
            let route = route_of(&edge.templates, response.request());
            edge.metrics.observe(
                &route,
                method_label(&request.method),
                status,
                elapsed.as_secs_f64(),
            );
            route
        }
    };
    let route = route.as_ref();
    let bytes = match response.response().body().size() {
        actix_web::body::BodySize::Sized(n) => n,
        _ => 0,
    };
    // The client chose the method: a made-up one is logged clipped.
    let method = clip(request.method.as_str(), MAX_LOGGED_METHOD);
    let request_id = request.id.to_str().unwrap_or_default();
    telemetry::request_answered(&request.span, method, route, status);
    telemetry::access(&AccessLine {
        method,
        route,
        status,
        latency: elapsed,
        bytes,
        request_id,
        trace_id: request.trace.id.0,
        cached,
        probe: PROBES.contains(&route),
    });
}

/// The client's request id when it is a valid one, else a new UUID.
fn request_id(req: &ServiceRequest) -> (HeaderValue, Option<[u8; 16]>) {
    if let Some(given) = req
        .headers()
        .get(REQUEST_ID)
        .filter(|value| valid_request_id(value.as_bytes()))
    {
        return (given.clone(), None);
    }
    let drawn = uuid::Uuid::new_v4();
    let mut buffer = uuid::Uuid::encode_buffer();
    let id = drawn.hyphenated().encode_lower(&mut buffer);
    let id = HeaderValue::from_str(id).expect("a UUID is a valid header");
    (id, Some(*drawn.as_bytes()))
}

/// A response, and the cache entry it came from or was kept as.
type Answer<B> = (ServiceResponse<EitherBody<B, BoxBody>>, Option<Arc<Stored>>);

/// Keeps a content response in the cache under `key` (with its route's
/// metric handles) and answers with it; any other response passes as it is.
fn keep<B: MessageBody + 'static>(
    edge: &Edge,
    key: Key,
    method: &Method,
    response: ServiceResponse<B>,
) -> Answer<B> {
    if !super::response_cache::keeps(response.response()) {
        return (response.map_into_left_body(), None);
    }
    let route = route_of(&edge.templates, response.request());
    let route = edge
        .metrics
        .route(&route, method_label(method), response.status().as_u16());
    let (request, response) = response.into_parts();
    let (mut head, body) = response.into_parts();
    match body.try_into_bytes() {
        Ok(body) => {
            // Kept with the headers every response carries: a hit then only
            // adds its request id.
            every_response(head.headers_mut(), edge.any_origin);
            let stored = Arc::new(Stored::new(
                head.status(),
                head.headers().clone(),
                body,
                route,
            ));
            edge.responses.insert(key, Arc::clone(&stored));
            let response = ServiceResponse::new(request, stored.response());
            (response.map_into_right_body(), Some(stored))
        }
        // A streamed body: not kept.
        Err(body) => (
            ServiceResponse::new(request, head.set_body(body)).map_into_left_body(),
            None,
        ),
    }
}

/// The longest method name an access line carries; longer ones are clipped.
const MAX_LOGGED_METHOD: usize = 16;
/// The longest origin a refusal repeats back.
const MAX_LOGGED_ORIGIN: usize = 100;

/// The method as a metrics label: one of a closed set, so that made-up
/// methods (any token is one) cannot add series without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn clip(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The route template a response came from, for the metrics and the log:
/// looked up by the resource's name, not built from the resource tree.
fn route_of<'a>(templates: &'a RouteTemplates, request: &HttpRequest) -> Cow<'a, str> {
    match request.match_name().and_then(|name| templates.0.get(name)) {
        Some(template) => Cow::Borrowed(template.as_str()),
        None => request
            .match_pattern()
            .map_or(Cow::Borrowed("unmatched"), Cow::Owned),
    }
}

/// The route template of each documented operation, by its resource name
/// (the handler's name, which is also its operationId). Looking the name up
/// spares building the template from the resource tree on every request.
pub struct RouteTemplates(pub std::collections::HashMap<String, String>);

/// Why the request is refused before routing, if it is.
fn refusal(req: &ServiceRequest, limits: Limits) -> Option<HttpResponse> {
    let url_bytes = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if url_bytes > limits.max_url_bytes {
        return Some(problem::refusal(
            StatusCode::URI_TOO_LONG,
            format!(
                "the URL is {url_bytes} bytes long; the limit is {}",
                limits.max_url_bytes
            ),
        ));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > limits.max_header_bytes {
        return Some(problem::refusal(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request headers are {header_bytes} bytes; the limit is {}",
                limits.max_header_bytes
            ),
        ));
    }
    let bodiless = matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
    );
    if bodiless && has_body(req) {
        return Some(problem::refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{} requests take no body", req.method()),
        ));
    }
    None
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// A client's request id is kept if it is 1 to 128 visible ASCII characters
/// of the kinds ids are made of; anything else is replaced, not echoed.
fn valid_request_id(value: &[u8]) -> bool {
    (1..=128).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Counts a request in flight until dropped, even if the client goes away.
struct InFlight<'a>(&'a Metrics);

impl<'a> InFlight<'a> {
    fn enter(metrics: &'a Metrics) -> Self {
        metrics.in_flight.inc();
        Self(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

/// Adds the headers every response carries but its request id: the
/// security headers, and `Access-Control-Allow-Origin: *` when any origin may
/// read the API. actix-cors sends that one only to requests with an `Origin`,
/// without `Vary: Origin` (the answer being the same for every origin): a CDN
/// that stored an answer to a request without one (a server-side render, a
/// crawler) would then hand browsers an answer they may not read.
fn every_response(headers: &mut HeaderMap, any_origin: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Pages of ours set the page policy themselves, for their 304s too (a
    // 304's headers replace the stored page's, and it has no Content-Type);
    // Swagger UI's pages are told by their type.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let page = problem::is_page(headers);
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(if page { PAGE_POLICY } else { API_POLICY }),
        );
    }
    // A write preflight names the origin it answers; everything else is `*`.
    if any_origin && !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        allow_origin(headers, HeaderValue::from_static("*"));
    }
}

/// Lets `origin` read the response and all its headers, as actix-cors says
/// it: here too for the refusals the edge makes itself, which CORS does not
/// see.
fn allow_origin(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("*"),
    );
}

/// The Content-Security-Policy of HTML pages: nothing from elsewhere; from
/// here, Swagger UI's and the reader page's scripts, styles (some inline)
/// and data-URI icons; no framing.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The Content-Security-Policy of everything else (JSON, problems, assets):
/// a response opened as a document may load nothing and be framed by
/// nothing, as OWASP advises for APIs. A third of the page policy's bytes,
/// on every API response.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Whether the configured origins are any origin.
pub fn any_origin(allowed_origins: &[String]) -> bool {
    allowed_origins.iter().any(|origin| origin == "*")
}

/// The request headers a browser may send from another origin: those the
/// API reads. A front end's tracing (OpenTelemetry's browser SDK) sends the
/// W3C trace context, which the API joins; without it in the list, every
/// traced request would fail its preflight.
const ALLOWED_HEADERS: [HeaderName; 11] = [
    header::ACCEPT,
    header::ACCEPT_ENCODING,
    header::ACCEPT_LANGUAGE,
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::IF_NONE_MATCH,
    HeaderName::from_static("idempotency-key"),
    HeaderName::from_static("reply-token"),
    REQUEST_ID,
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
];

/// The most bytes of what a client sent that a refusal echoes.
const ECHOED: usize = 64;

/// What a refused preflight's problem says, in place of actix-cors's bare
/// sentence: which of the headers, the method or the origin it asked for
/// was refused, and what is allowed.
pub fn preflight_refusal(error: &CorsError, request: &HttpRequest) -> String {
    let asked = |name: HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    };
    match error {
        CorsError::HeadersNotAllowed => {
            let refused: Vec<String> = asked(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .split(',')
                .map(str::trim)
                .filter(|name| {
                    !name.is_empty()
                        && !ALLOWED_HEADERS
                            .iter()
                            .any(|allowed| allowed.as_str().eq_ignore_ascii_case(name))
                })
                .map(|name| format!("`{}`", clip(name, ECHOED)))
                .collect();
            format!(
                "a request from another origin may not send {}; it may send {}",
                refused.join(", "),
                ALLOWED_HEADERS_LIST.to_str().unwrap_or_default()
            )
        }
        CorsError::MethodNotAllowed => format!(
            "a request from another origin may not use `{}` here; it may use GET and HEAD",
            clip(asked(header::ACCESS_CONTROL_REQUEST_METHOD), ECHOED)
        ),
        CorsError::OriginNotAllowed => format!(
            "origin `{}` is not among those this API allows to read it",
            clip(asked(header::ORIGIN), ECHOED)
        ),
        other => other.to_string(),
    }
}

/// [`ALLOWED_HEADERS`] as a preflight lists them, joined once.
static ALLOWED_HEADERS_LIST: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
    let headers = ALLOWED_HEADERS;
    let names: Vec<&str> = headers.iter().map(HeaderName::as_str).collect();
    HeaderValue::from_str(&names.join(", ")).expect("header names are valid header text")
});

/// How long a browser may keep a preflight's answer (seconds).
const PREFLIGHT_MAX_AGE: usize = 86_400;

/// CORS for reading: the configured origins (any, by default) may `GET` and
/// `HEAD` the API; never with credentials. Writing from another origin is
/// the edge's to allow ([`Edge::cross_origin_write`]), so a preflight
/// answered here never lists a method that writes.
pub fn cors(allowed_origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods([Method::GET, Method::HEAD])
        .allowed_headers(ALLOWED_HEADERS)
        // Every header may be read by scripts: `*`, which browsers honour for
        // requests without credentials, the only kind allowed here. Listing
        // them (ETag, Link, Location, X-Request-Id, X-Content-Revision,
        // X-RateLimit-*, Retry-After, ...) cost 190 bytes on every response.
        .expose_headers([HeaderName::from_static("*")])
        .max_age(PREFLIGHT_MAX_AGE);
    if any_origin(allowed_origins) {
        // The answer is the same for every origin, so caches need not vary on it.
        cors.allow_any_origin()
            .send_wildcard()
            .disable_vary_header()
    } else {
        allowed_origins
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{cache::Caching, representation::Representation, response_cache::Generation};
    use actix_web::{App, test as actix_test};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Unchanging;

    impl Generation for Unchanging {
        fn generation(&self) -> u64 {
            0
        }
    }

    /// How many requests reached a handler.
    #[derive(Default)]
    struct Reached {
        unmarked: AtomicUsize,
        marked: AtomicUsize,
    }

    /// The content policy, sent by a handler that does not say it is content.
    async fn unmarked(reached: web::Data<Reached>) -> HttpResponse {
        reached.unmarked.fetch_add(1, Ordering::SeqCst);
        HttpResponse::Ok()
            .insert_header((
                header::CACHE_CONTROL,
                "public, max-age=300, stale-while-revalidate=86400",
            ))
            .body("from the database")
    }

    async fn marked(req: HttpRequest, reached: web::Data<Reached>) -> HttpResponse {
        reached.marked.fetch_add(1, Ordering::SeqCst);
        Representation::new("content".into()).respond(&req, "text/plain", Caching::Content)
    }

    #[actix_web::test]
    async fn a_handler_that_does_not_mark_its_response_is_never_answered_from_the_cache() {
        let metrics = web::Data::new(Metrics::new());
        let (hits, misses) = metrics.response_cache();
        let edge = web::Data::new(Edge {
            limits: Limits {
                max_url_bytes: 8192,
                max_header_bytes: 16384,
            },
            any_origin: true,
            named_origins: Vec::new(),
            write_origins: Vec::new(),
            metrics,
            templates: RouteTemplates(std::collections::HashMap::new()),
            responses: Arc::new(ResponseCache::new(
                1 << 20,
                Arc::new(Unchanging),
                hits,
                misses,
            )),
        });
        let reached = web::Data::new(Reached::default());
        let app = actix_test::init_service(
            App::new()
                .app_data(reached.clone())
                .route("/unmarked", web::get().to(unmarked))
                .route("/marked", web::get().to(marked))
                .wrap(EdgeLayer(edge)),
        )
        .await;
        for _ in 0..3 {
            for path in ["/unmarked", "/marked"] {
                let response = actix_test::call_service(
                    &app,
                    actix_test::TestRequest::get().uri(path).to_request(),
                )
                .await;
                assert_eq!(response.status(), StatusCode::OK);
            }
        }
        assert_eq!(
            reached.unmarked.load(Ordering::SeqCst),
            3,
            "every request reached it"
        );
        assert_eq!(
            reached.marked.load(Ordering::SeqCst),
            1,
            "the cache answered the repeats"
        );
    }

    #[test]
    fn request_ids_are_short_plain_tokens() {
        assert!(valid_request_id(b"3f2c9a1e-7b4d-4c61-9d0e-2a5b8c7d6e1f"));
        assert!(valid_request_id(b"req_42.a:b"));
        assert!(!valid_request_id(b""));
        assert!(!valid_request_id(b"has space"));
        assert!(!valid_request_id(b"<script>"));
        assert!(!valid_request_id(&[b'a'; 129]));
    }

    #[test]
    fn method_labels_are_a_closed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), "other");
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("GET", 16), "GET");
        assert_eq!(clip("ABCDEFGHIJ", 4), "ABCD");
        assert_eq!(clip("ééé", 3), "é");
    }
}
