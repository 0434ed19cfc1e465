use serde_json::Value;

use crate::helpers::{Backend, MODERATOR_TOKEN, Reply, TestApp, spawn_app, spawn_replies_app};

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_spec_is_what_the_code_generates() {
    let generated = relief_api::openapi::document_json();
    if generated != COMMITTED {
        let (line, (want, got)) = generated
            .lines()
            .zip(COMMITTED.lines())
            .enumerate()
            .find(|(_, (generated, committed))| generated != committed)
            .map_or((0, ("", "")), |(i, (g, c))| (i + 1, (g, c)));
        panic!(
            "openapi/openapi.json is out of date with the code (first difference at line {line}:\n  \
             generated: {want}\n  committed: {got}).\n\
             Regenerate it with: cargo run -- openapi > openapi/openapi.json"
        );
    }
}

#[actix_web::test]
async fn the_server_serves_the_committed_spec() {
    let app = spawn_app().await;
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, COMMITTED.as_bytes());
}

#[test]
fn the_spec_is_openapi_3_1_with_an_operation_id_and_summary_everywhere() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                operation["summary"].is_string(),
                "{method} {path} has no summary"
            );
            let tag = operation["tags"][0].as_str().unwrap();
            // Operations are named <resource>_<verb> after their plural tag.
            let resource = match tag.strip_suffix("ies") {
                Some(stem) => format!("{stem}y"),
                None => tag.trim_end_matches('s').to_owned(),
            };
            if tag != "operations" {
                assert!(
                    id.starts_with(&resource),
                    "{id} is not named after its tag {tag}"
                );
            }
        }
    }
}

#[test]
fn a_list_names_the_type_of_its_items_and_every_schema_is_used() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    // `Page_Reply`, `List_Benefit`: a client generator gives the items their
    // own type, `Reply`, `Benefit`. (A `…Fields` list's items are partial.)
    for (name, schema) in schemas {
        if let Some((_, item)) = name.split_once('_')
            && !name.ends_with("Fields")
        {
            assert_eq!(
                schema["properties"]["items"]["items"]["$ref"],
                format!("#/components/schemas/{item}"),
                "{name}'s items are not a {item}"
            );
        }
    }
    // The event types are listed for webhook receivers, each webhook
    // narrowing `type` to its own.
    for name in schemas.keys().filter(|name| *name != "EventType") {
        let reference = format!("\"#/components/schemas/{name}\"");
        assert!(COMMITTED.contains(&reference), "{name} is never used");
    }
}

/// Fills a documented path's parameters, and its required query
/// parameters, with their documented examples.
fn example_path(path: &str, operation: &Value) -> String {
    let mut path = path.to_owned();
    let mut query = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] == "query" && parameter["required"] == true {
            let name = parameter["name"].as_str().unwrap();
            let example = parameter["example"].as_str().expect("a string example");
            query.push(serde_urlencoded::to_string([(name, example)]).unwrap());
        }
        if parameter["in"] == "path" {
            let name = parameter["name"].as_str().unwrap();
            let example = match &parameter["example"] {
                Value::String(example) => example.clone(),
                Value::Number(example) => example.to_string(),
                _ => panic!("{path}: `{name}` has no example"),
            };
            path = path.replace(&format!("{{{name}}}"), &example);
        }
    }
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    path
}

/// Sends `method url` with `extra` headers, as a moderator when
/// `operation` asks for one.
async fn read(
    app: &TestApp,
    method: &str,
    operation: &Value,
    url: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let auth = format!("Bearer {MODERATOR_TOKEN}");
    let mut headers = extra.to_vec();
    if operation["security"].is_array() {
        headers.push(("authorization", &auth));
    }
    app.request_with(method, url, &headers).await
}

#[actix_web::test]
async fn every_documented_read_keeps_the_promises_of_its_spec() {
    // Each answers its examples with 200, the headers its 200 documents,
    // 304 for its ETag, and HEAD. With one approved reply (id 1, the
    // examples' id), and as a moderator where the operation asks for one.
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let id = app
        .post_reply(serde_json::json!({ "author_name": "Dana", "body": "Thanks." }))
        .await;
    assert_eq!(id, 1);
    app.moderate(id, "approved").await;
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let operation = &item["get"];
        // The live event stream never ends: tests/api/events.rs reads it.
        if operation["tags"][0] == "events" {
            continue;
        }
        let url = example_path(path, operation);
        let mut tries = 0;
        let reply = loop {
            let reply = read(&app, "GET", operation, &url, &[]).await;
            // Sync answers 503 until the content just loaded is recorded.
            tries += 1;
            if reply.status != 503 || tries == 50 {
                break reply;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(reply.status, 200, "GET {url}");
        let ok = &operation["responses"]["200"];
        assert!(ok.is_object(), "{path} documents no 200");
        // What the spec says is sent, is, but for what it says is sent only
        // sometimes: `Last-Modified` when the article has an `updated_at`
        // (the source article has none), sync's `Link` when a page follows.
        for name in ok["headers"].as_object().into_iter().flat_map(|h| h.keys()) {
            if name == "Last-Modified" || (name == "Link" && path == "/v1/sync") {
                continue;
            }
            assert!(
                reply.header(name).is_some(),
                "GET {url} documents `{name}` on its 200 but does not send it"
            );
        }
        if operation["responses"]["304"].is_object() {
            let etag = reply.etag().to_owned();
            let again = read(&app, "GET", operation, &url, &[("if-none-match", &etag)]).await;
            assert_eq!(again.status, 304, "GET {url} with its ETag");
        }
        // HEAD answers every GET: the same headers, no body.
        let head = read(&app, "HEAD", operation, &url, &[]).await;
        assert_eq!(head.status, 200, "HEAD {url}");
        assert!(head.body.is_empty(), "HEAD {url}");
        assert_eq!(head.header("etag"), reply.header("etag"), "HEAD {url}");
    }
}

#[actix_web::test]
async fn swagger_ui_is_served_at_docs_and_reads_the_spec() {
    let app = spawn_app().await;
    let redirect = app.get("/docs").await;
    assert!(redirect.status.is_redirection());
    assert_eq!(redirect.header("location"), Some("/docs/"));

    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("swagger-ui"));
    let init = app.get("/docs/swagger-initializer.js").await;
    assert!(String::from_utf8_lossy(&init.body).contains("/openapi.json"));
}

#[actix_web::test]
async fn swagger_ui_loads_every_file_compressed_and_revalidates_it_after() {
    let app = spawn_app().await;
    let page = String::from_utf8(app.get("/docs/").await.body.to_vec()).unwrap();
    // Every file the page loads: `href="./swagger-ui.css"`, `src="./…js"`.
    let files: Vec<&str> = page
        .split('"')
        .filter(|part| {
            [".css", ".js", ".png"]
                .iter()
                .any(|ext| part.ends_with(ext))
        })
        .map(|part| part.trim_start_matches("./"))
        .collect();
    assert_eq!(files.len(), 7, "{files:?}");
    let br = ("accept-encoding", "br");
    for file in files {
        let path = format!("/docs/{file}");
        let first = app.request_with("GET", &path, &[br]).await;
        assert_eq!(first.status, 200, "{path}");
        let etag = first.etag().to_owned();
        let again = app
            .request_with("GET", &path, &[br, ("if-none-match", &etag)])
            .await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
    }
    // The 1.5 MB bundle travels as about a quarter of it.
    let bundle = app
        .request_with("GET", "/docs/swagger-ui-bundle.js", &[br])
        .await;
    assert_eq!(bundle.header("content-encoding"), Some("br"));
    assert!(bundle.body.len() < 600_000, "{} bytes", bundle.body.len());
    let missing = app.get("/docs/nope.js").await.problem(404);
    assert_eq!(missing["detail"], "no file `nope.js` in the docs");
}

#[test]
fn every_operation_documents_the_refusals_it_can_answer() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let responses = &item["get"]["responses"];
        for status in ["400", "413", "414", "431"] {
            assert!(
                responses[status].is_object(),
                "GET {path} does not document {status}"
            );
        }
        // Probes and the live event stream are not representations with
        // validators or codings.
        if !["operations", "events"].contains(&item["get"]["tags"][0].as_str().unwrap_or_default())
        {
            for status in ["304", "406"] {
                assert!(
                    responses[status].is_object(),
                    "GET {path} does not document {status}"
                );
            }
        }
    }
}

/// The value a link's runtime expression names: `$request.path.NAME` or
/// `$response.body#/JSON/POINTER`; `None` when the response has no such value.
fn resolve(
    expression: &str,
    path_params: &serde_json::Map<String, Value>,
    body: &Value,
) -> Option<String> {
    let value = if let Some(name) = expression.strip_prefix("$request.path.") {
        path_params.get(name)?
    } else {
        body.pointer(expression.strip_prefix("$response.body#")?)?
    };
    Some(match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

#[actix_web::test]
async fn every_link_from_the_article_list_leads_to_a_real_resource() {
    let app = spawn_app().await;
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    // operationId -> (path template, the operation)
    let mut operations = std::collections::HashMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for operation in item.as_object().unwrap().values() {
            operations.insert(
                operation["operationId"].as_str().unwrap().to_owned(),
                (path.clone(), operation.clone()),
            );
        }
    }
    let mut followed = Vec::new();
    let mut queue = vec![("article_list".to_owned(), serde_json::Map::new(), 0)];
    while let Some((id, params, depth)) = queue.pop() {
        let (template, operation) = &operations[&id];
        let mut path = template.clone();
        for (name, value) in &params {
            path = path.replace(&format!("{{{name}}}"), value.as_str().unwrap());
        }
        let answer = app.get(&path).await;
        assert_eq!(answer.status, 200, "{id} at {path}, reached by a link");
        followed.push(id.clone());
        let Some(links) = operation["responses"]["200"]["links"].as_object() else {
            continue;
        };
        let body = answer.json();
        for link in links.values() {
            let target = link["operationId"].as_str().unwrap();
            assert!(
                operations.contains_key(target),
                "a link names {target}, which is no operation"
            );
            if !operations[target].1["requestBody"].is_null() || depth >= 2 {
                continue; // followed by Schemathesis; here only reads
            }
            let resolved: Option<serde_json::Map<String, Value>> = link["parameters"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, expression)| {
                    resolve(expression.as_str().unwrap(), &params, &body)
                        .map(|value| (name.clone(), Value::String(value)))
                })
                .collect();
            if let Some(next) = resolved {
                queue.push((target.to_owned(), next, depth + 1));
            }
        }
    }
    for expected in [
        "article_view",
        "section_view",
        "benefit_view",
        "precaution_view",
        "faq_view",
        "reply_list",
    ] {
        assert!(
            followed.iter().any(|id| id == expected),
            "no link led to {expected}: {followed:?}"
        );
    }
}
