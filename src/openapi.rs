//! The OpenAPI 3.1 document: the API-wide parts live on [`ApiDoc`], every path
//! comes from the one route registration in [`crate::routes::configure`].

use actix_web::App;
use utoipa::{
    IntoParams, Modify, OpenApi,
    openapi::{
        self, Ref, RefOr, Required,
        header::{Header, HeaderBuilder},
        path::{ParameterBuilder, ParameterIn},
        response::ResponseBuilder,
        schema::{ObjectBuilder, Type},
    },
};
use utoipa_actix_web::AppExt;

use crate::{
    content::Slug,
    error::{
        BadRequest, Conflict, Forbidden, Gone, HeadersTooLarge, InternalError, NotAcceptable,
        NotFound, PayloadTooLarge, Problem, RangeNotSatisfiable, RequestTimeout, SearchUnavailable,
        SyncUnavailable, TokenRefused, TooManyRequests, Unauthorized, Unavailable, Unprocessable,
        UnsupportedMediaType, UriTooLong,
    },
    events::{ContentEvent, EventType, RemovedReplyEvent, ReplyEvent},
    http::conditional::IfModifiedSince,
    routes,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "relief-api",
        description = "A JSON content API serving the article \"Back Pain Relief With Deep Tissue Massage\": \
the article whole, its sections, benefits, precautions and FAQs as typed resources, \
and readers' replies, shown once a moderator approves them.\n\n\
Every error is `application/problem+json` (RFC 9457). Content identifiers (slugs and ids) are lowercase kebab-case; \
reply ids are positive integers.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    tags(
        (name = "articles", description = "Articles, listed and whole."),
        (name = "sections", description = "An article's prose sections: intro, body sections and conclusion."),
        (name = "benefits", description = "An article's numbered benefits."),
        (name = "precautions", description = "An article's numbered precautions."),
        (name = "faqs", description = "An article's frequently asked questions."),
        (name = "search", description = "Full-text search over every article and its parts."),
        (name = "events", description = "Live events, as server-sent events; the same events go to webhook endpoints (`--webhooks-file`), signed as Standard Webhooks asks."),
        (name = "sync", description = "What changed in the content since a client last asked: for apps that keep a copy."),
        (name = "replies", description = "Readers' replies to an article: posted by anyone, shown once a moderator approves them."),
        (name = "moderation", description = "Moderators approve, reject or delete replies. Needs a moderator's bearer token: use \"Authorize\"."),
        (name = "index", description = "The entry point, linking everything else."),
        (name = "operations", description = "Probes and metrics for load balancers, orchestrators and monitoring."),
    ),
    components(
        schemas(Problem, Slug, EventType, ContentEvent, ReplyEvent, RemovedReplyEvent),
        responses(
            BadRequest, NotAcceptable, RangeNotSatisfiable, NotFound, UriTooLong, HeadersTooLarge, PayloadTooLarge, RequestTimeout, Forbidden,
            UnsupportedMediaType, Unprocessable, Conflict, Unauthorized, TooManyRequests, Unavailable,
            SearchUnavailable, InternalError, Gone, SyncUnavailable, TokenRefused
        )
    ),
    modifiers(&ModeratorToken),
)]
pub struct ApiDoc;

/// The whole OpenAPI document, as the server serves it.
pub fn document() -> openapi::OpenApi {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    let mut document = document;
    Refusals.modify(&mut document);
    Webhooks.modify(&mut document);
    Caching.modify(&mut document);
    FieldChoices.modify(&mut document);
    NamedElements.modify(&mut document);
    document
}

/// utoipa gives a generic container (`Page<T>`, `List<T>`, `Group<T>`) its
/// element's whole schema, inlined (utoipa#1586), so a client generator or
/// Swagger UI would show `Page_ArticleSummary`'s items as an anonymous
/// object. Each such copy of a component becomes a `$ref` to it. Runs last:
/// the partial schemas of [`FieldChoices`] edit their copies, which then
/// stay theirs.
struct NamedElements;

impl Modify for NamedElements {
    fn modify(&self, document: &mut openapi::OpenApi) {
        use utoipa::openapi::schema::Schema;
        let Some(components) = document.components.as_mut() else {
            return;
        };
        let named: Vec<(String, Schema)> = components
            .schemas
            .iter()
            .filter_map(|(name, schema)| match schema {
                RefOr::T(schema) => Some((name.clone(), schema.clone())),
                RefOr::Ref(_) => None,
            })
            .collect();
        for schema in components.schemas.values_mut() {
            if let RefOr::T(schema) = schema {
                refer_to_named(schema, &named);
            }
        }
    }
}

/// Replaces each schema within `schema` (not `schema` itself) that is a
/// copy of one in `named` with a reference to it.
fn refer_to_named(
    schema: &mut utoipa::openapi::schema::Schema,
    named: &[(String, utoipa::openapi::schema::Schema)],
) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    let within: Vec<&mut RefOr<Schema>> = match schema {
        Schema::Object(object) => object.properties.values_mut().collect(),
        Schema::Array(array) => match &mut array.items {
            ArrayItems::RefOrSchema(item) => vec![item.as_mut()],
            ArrayItems::False => Vec::new(),
        },
        Schema::OneOf(one_of) => one_of.items.iter_mut().collect(),
        Schema::AllOf(all_of) => all_of.items.iter_mut().collect(),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().collect(),
        _ => Vec::new(),
    };
    for inner in within {
        let RefOr::T(copy) = inner else { continue };
        match named.iter().find(|(_, schema)| schema == copy) {
            Some((name, _)) => *inner = RefOr::Ref(Ref::from_schema_name(name)),
            None => refer_to_named(copy, named),
        }
    }
}

/// Documents `fields` as a comma-separated list of the field names the
/// operation's response has (for a list, its items'): read from the
/// response schema, so a field added to a type is a choice at once.
struct FieldChoices;

impl FieldChoices {
    /// The property names of the schema `reference` points to, or of the
    /// items of its `items` array when it is a list.
    fn names(components: &openapi::Components, reference: &str) -> Vec<String> {
        use utoipa::openapi::schema::{ArrayItems, Schema};
        let Some(object) = object_of(components, reference) else {
            return Vec::new();
        };
        if let Some(RefOr::T(Schema::Array(array))) = object.properties.get("items")
            && let ArrayItems::RefOrSchema(item) = &array.items
        {
            let item = match item.as_ref() {
                RefOr::Ref(item) => object_of(components, &item.ref_location),
                RefOr::T(Schema::Object(item)) => Some(item.clone()),
                RefOr::T(_) => None,
            };
            if let Some(item) = item {
                return item.properties.keys().cloned().collect();
            }
        }
        object.properties.keys().cloned().collect()
    }
}

/// The object schema `reference` (`#/components/schemas/Name`) points to.
fn object_of(
    components: &openapi::Components,
    reference: &str,
) -> Option<utoipa::openapi::schema::Object> {
    match components
        .schemas
        .get(reference.trim_start_matches("#/components/schemas/"))
    {
        Some(RefOr::T(utoipa::openapi::schema::Schema::Object(object))) => Some(object.clone()),
        _ => None,
    }
}

impl Modify for FieldChoices {
    fn modify(&self, document: &mut openapi::OpenApi) {
        use utoipa::openapi::{
            path::ParameterStyle,
            schema::{AnyOfBuilder, ArrayBuilder, Schema},
        };
        let Some(components) = document.components.clone() else {
            return;
        };
        let mut partials = std::collections::BTreeMap::new();
        for item in document.paths.paths.values_mut() {
            let Some(operation) = item.get.as_mut() else {
                continue;
            };
            let takes_fields = operation.parameters.iter().flatten().any(|parameter| {
                matches!(parameter, RefOr::T(p) if p.name == "fields" && p.parameter_in == ParameterIn::Query)
            });
            let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") else {
                continue;
            };
            let Some(RefOr::T(content)) = ok.content.get_mut("application/json") else {
                continue;
            };
            let Some(RefOr::Ref(full)) = content.schema.clone() else {
                continue;
            };
            if !takes_fields {
                continue;
            }
            // With `fields`, what was not asked for is absent: the answer is
            // the full schema, or its partial twin with nothing required.
            let name = full
                .ref_location
                .trim_start_matches("#/components/schemas/");
            let partial = format!("{name}Fields");
            if let Some(object) = object_of(&components, &full.ref_location) {
                partials.insert(partial.clone(), partial_of(object));
            }
            content.schema = Some(RefOr::T(Schema::AnyOf(
                AnyOfBuilder::new()
                    .item(RefOr::Ref(full.clone()))
                    .item(RefOr::Ref(Ref::from_schema_name(&partial)))
                    .build(),
            )));
            let names = FieldChoices::names(&components, &full.ref_location);
            for parameter in operation.parameters.iter_mut().flatten() {
                let RefOr::T(parameter) = parameter else {
                    continue;
                };
                if parameter.name != "fields" {
                    continue;
                }
                let choices = ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names.clone()));
                parameter.schema = Some(RefOr::T(Schema::Array(
                    ArrayBuilder::new()
                        .items(choices)
                        .min_items(Some(1))
                        .build(),
                )));
                parameter.style = Some(ParameterStyle::Form);
                parameter.explode = Some(false);
            }
        }
        let schemas = &mut document
            .components
            .get_or_insert_with(Default::default)
            .schemas;
        for (name, schema) in partials {
            schemas.insert(name, RefOr::T(schema));
        }
    }
}

/// `object` with no property required, and for a list, no property of its
/// items either: what an answer to `fields` is.
fn partial_of(mut object: utoipa::openapi::schema::Object) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    if let Some(RefOr::T(Schema::Array(array))) = object.properties.get_mut("items")
        && let ArrayItems::RefOrSchema(item) = &mut array.items
        && let RefOr::T(Schema::Object(item)) = item.as_mut()
    {
        item.required.clear();
    } else {
        object.required.clear();
    }
    object.description = Some(format!(
        "{} Only the fields named in `fields` are present.",
        object.description.unwrap_or_default()
    ));
    Schema::Object(object)
}

/// The bearer scheme of the moderation operations, so that Swagger UI's
/// "Authorize" button can send a moderator's token.
struct ModeratorToken;

impl Modify for ModeratorToken {
    fn modify(&self, document: &mut openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        document
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "moderator_token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "A moderator's token; the server knows only its SHA-256 digest \
                             (`--moderator-tokens-file`, `relief-api hash-token`).",
                        ))
                        .build(),
                ),
            );
    }
}

/// The webhooks (OpenAPI 3.1's `webhooks`): one POST per event type, as
/// `--webhooks-file` endpoints receive it, Standard Webhooks headers and all.
struct Webhooks;

impl Modify for Webhooks {
    fn modify(&self, document: &mut openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, HttpMethod, PathItem, PathsBuilder, path::OperationBuilder,
            request_body::RequestBodyBuilder,
        };
        let events = [
            (
                EventType::ContentPublished,
                "ContentEvent",
                "An article, in one language, appeared on a reload.",
            ),
            (
                EventType::ContentUpdated,
                "ContentEvent",
                "An article, in one language, or one of its parts changed on a reload.",
            ),
            (
                EventType::ContentDeleted,
                "ContentEvent",
                "An article, in one language, is gone after a reload.",
            ),
            (
                EventType::ReplySubmitted,
                "ReplyEvent",
                "A reader posted a reply; it awaits moderation (never on the public live stream).",
            ),
            (
                EventType::ReplyApproved,
                "ReplyEvent",
                "A moderator approved a reply: it is now shown.",
            ),
            (
                EventType::ReplyRemoved,
                "RemovedReplyEvent",
                "A reply that was shown no longer is (rejected, marked spam, sent back to the \
                 queue, deleted, corrected or withdrawn by its author, or erased): drop it.",
            ),
        ];
        let header = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let mut paths = PathsBuilder::new();
        for (kind, data, description) in events {
            let body = ObjectBuilder::new()
                .property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([kind.as_str()])),
                )
                .property(
                    "timestamp",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some("When it happened (RFC 3339, UTC).")),
                )
                .property("data", Ref::from_schema_name(data))
                .required("type")
                .required("timestamp")
                .required("data");
            let operation = OperationBuilder::new()
                .operation_id(Some(format!("webhook_{}", kind.as_str().replace('.', "_"))))
                .summary(Some(format!("Receive `{}`", kind.as_str())))
                .description(Some(format!(
                    "{description} Posted to each `--webhooks-file` endpoint that wants it, at least once \
                     (retried with exponential backoff; deduplicate by `webhook-id`). Verify \
                     `webhook-signature` with any Standard Webhooks library. Answer 2xx to acknowledge."
                )))
                .tag("events")
                .parameters(Some([
                    header("webhook-id", "The event's id (`msg_...`), the same on every retry."),
                    header("webhook-timestamp", "When this try was sent, in seconds since the epoch."),
                    header("webhook-signature", "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the endpoint's secret."),
                ]))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .content("application/json", ContentBuilder::new().schema(Some(body)).build())
                        .required(Some(Required::True))
                        .build(),
                ))
                .response("2XX", ResponseBuilder::new().description("Acknowledged: not sent again."))
                .response("default", ResponseBuilder::new().description("Not acknowledged: tried again later."))
                .build();
            paths = paths.path(kind.as_str(), PathItem::new(HttpMethod::Post, operation));
        }
        document.webhooks = Some(paths.build());
    }
}

/// Documents the refusals every operation may answer before routing (see
/// `http::edge::EdgeLayer`), the 403 of every one that writes (a browser
/// on an origin not in `--write-origins`) and the 408 of every one that
/// reads a body (see `routes::params::BodyDeadline`): one rule each, stated
/// once.
struct Refusals;

impl Modify for Refusals {
    fn modify(&self, document: &mut openapi::OpenApi) {
        for item in document.paths.paths.values_mut() {
            let writes = [
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            // An operation with a 403 of its own says both causes in it.
            for operation in writes.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .entry("403".into())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Forbidden")));
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for (status, name) in [
                    ("413", "PayloadTooLarge"),
                    ("414", "UriTooLong"),
                    ("431", "HeadersTooLarge"),
                ] {
                    responses.insert(status.into(), RefOr::Ref(Ref::from_response_name(name)));
                }
                if operation.request_body.is_some() {
                    responses.insert(
                        "408".into(),
                        RefOr::Ref(Ref::from_response_name("RequestTimeout")),
                    );
                }
            }
        }
    }
}

/// Documents the HTTP caching that every content `GET` honours (see
/// `representation.rs`): one rule, so it is stated once rather than in each
/// handler's annotation.
struct Caching;

fn string_header(description: &str, example: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .example(Some(example.into()))
        .build()
}

fn caching_headers() -> [(&'static str, Header); 3] {
    [
        (
            "ETag",
            string_header(
                "Strong validator of this representation: a hash of its bytes, with the coding for compressed ones.",
                "\"5f1a7c0e9b2d4a6c8e0f1a2b3c4d5e6f-br\"",
            ),
        ),
        (
            "Cache-Control",
            string_header(
                "How caches may reuse the response: content as `--cache-max-age` and \
                 `--cache-stale-while-revalidate` say; replies `no-cache` (revalidate each time); \
                 moderation `private, no-store`.",
                "public, max-age=300, stale-while-revalidate=86400",
            ),
        ),
        (
            "Vary",
            string_header(
                "The response depends on `Accept-Encoding`, and for an article's resources on `Accept-Language` too.",
                "accept-encoding, accept-language",
            ),
        ),
    ]
}

/// The headers of an article's own resources.
fn article_headers() -> [(&'static str, Header); 2] {
    [
        (
            "Content-Language",
            string_header("The language served.", "en"),
        ),
        (
            "Last-Modified",
            string_header(
                "From the article's `updated_at`, when it has one.",
                "Wed, 01 May 2024 00:00:00 GMT",
            ),
        ),
    ]
}

/// The purge keys of content responses (`http::cache::PurgeKeys`).
fn purge_headers() -> [(&'static str, Header); 2] {
    const KEYS: &str = "What the response depends on, for a CDN that purges by key: \
        `article:{slug}` and `article:{slug}:{lang}` on every response about an article, \
        `{type}:{slug}:{id}` on a part alone, `articles` on the list, `bundle` on the bundle, \
        `search` on search answers. The content webhooks name the keys a change purges.";
    [
        (
            "Surrogate-Key",
            string_header(
                &format!("{KEYS} Space-separated (Fastly, Varnish xkey)."),
                "article:deep-tissue-massage-for-back-pain article:deep-tissue-massage-for-back-pain:en",
            ),
        ),
        (
            "Cache-Tag",
            string_header(
                &format!("{KEYS} Comma-separated (Cloudflare)."),
                "article:deep-tissue-massage-for-back-pain,article:deep-tissue-massage-for-back-pain:en",
            ),
        ),
    ]
}

impl Modify for Caching {
    fn modify(&self, document: &mut openapi::OpenApi) {
        let not_modified = caching_headers()
            .into_iter()
            .fold(
                ResponseBuilder::new().description(
                    "The client's copy (named in `If-None-Match`, or dated in `If-Modified-Since` where that is read) is current: no body.",
                ),
                |response, (name, header)| response.header(name, header),
            )
            .build();
        document
            .components
            .get_or_insert_with(Default::default)
            .responses
            .insert("NotModified".into(), RefOr::T(not_modified));

        for (path, item) in document.paths.paths.iter_mut() {
            let Some(operation) = item.get.as_mut() else {
                continue;
            };
            if operation
                .tags
                .iter()
                .flatten()
                .any(|tag| tag == "operations" || tag == "events")
            {
                continue;
            }
            // An article's own resources (not its replies) come in its
            // languages and carry its date (`routes::article_json`).
            let of_article = path.starts_with("/v1/articles/{slug}")
                && !operation.tags.iter().flatten().any(|tag| tag == "replies");
            let content = operation.tags.iter().flatten().any(|tag| {
                [
                    "articles",
                    "sections",
                    "benefits",
                    "precautions",
                    "faqs",
                    "search",
                ]
                .contains(&tag.as_str())
            });
            let if_none_match = ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Entity tags of copies the client holds (or `*`); if one matches, the answer is `304 Not Modified`.",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build();
            let parameters = operation.parameters.get_or_insert_with(Vec::new);
            parameters.push(RefOr::T(if_none_match));
            let since_read = parameters
                .iter()
                .any(|p| matches!(p, RefOr::T(p) if p.name == "If-Modified-Since"));
            if of_article && !since_read {
                let since = IfModifiedSince::into_params(|| Some(ParameterIn::Header));
                parameters.extend(since.into_iter().map(RefOr::T));
            }
            let responses = &mut operation.responses.responses;
            if let Some(RefOr::T(ok)) = responses.get_mut("200") {
                let mut headers = caching_headers().to_vec();
                if content {
                    headers.extend(purge_headers());
                }
                if of_article {
                    headers.extend(article_headers());
                }
                ok.headers.extend(
                    headers
                        .into_iter()
                        .map(|(name, header)| (name.to_owned(), RefOr::T(header))),
                );
            }
            responses.insert(
                "304".into(),
                RefOr::Ref(Ref::from_response_name("NotModified")),
            );
            responses.insert(
                "406".into(),
                RefOr::Ref(Ref::from_response_name("NotAcceptable")),
            );
        }
    }
}

/// The document as committed in `openapi/openapi.json`: pretty-printed, keys in
/// a stable order, ending with a newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}
