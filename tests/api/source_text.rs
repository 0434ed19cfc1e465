//! The source article is served verbatim: every line of it is in the served
//! article, and every text the article serves comes from it.

use serde_json::Value;

use crate::helpers::{SLUG, spawn_app};

const SOURCE: &str = include_str!("../fixtures/source-article.txt");

/// The source's lines as the content model splits them: list numbers and
/// Q/A markers dropped, numbered items cut into title and body at the first ": ".
fn source_pieces() -> Vec<String> {
    let mut pieces = Vec::new();
    for line in SOURCE.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let numbered = line
            .split_once(". ")
            .filter(|(n, _)| n.parse::<u32>().is_ok());
        if let Some((_, item)) = numbered {
            let (title, body) = item.split_once(": ").expect("a numbered item has a title");
            pieces.extend([title.to_owned(), body.to_owned()]);
        } else if let Some(text) = line
            .strip_prefix("Q: ")
            .or_else(|| line.strip_prefix("A: "))
        {
            pieces.push(text.to_owned());
        } else {
            pieces.push(line.to_owned());
        }
    }
    pieces
}

/// Every text value of the article (not ids, slugs, positions, the
/// language code, the review status the server computes, or `about`, which
/// names the subject in the title's words).
fn served_texts(value: &Value, key: &str, out: &mut Vec<String>) {
    match value {
        Value::String(text) if key == "about" => {
            assert!(
                SOURCE.contains(text.as_str()),
                "`about` is not in the source: {text}"
            )
        }
        Value::String(text) if !matches!(key, "id" | "slug" | "lang" | "status") => {
            out.push(text.clone())
        }
        Value::Array(items) => items.iter().for_each(|item| served_texts(item, key, out)),
        Value::Object(fields) => fields.iter().for_each(|(k, v)| served_texts(v, k, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn every_line_of_the_source_is_served_verbatim() {
    let app = spawn_app().await;
    let article = app.get_json(&format!("/v1/articles/{SLUG}")).await;
    let mut served = Vec::new();
    served_texts(&article, "", &mut served);
    let pieces = source_pieces();
    assert_eq!(
        pieces.len(),
        1 + 1 + 2 + 1 + 14 + 2 + 10 + 2 + 1 + 8 + 1,
        "the source splits as expected"
    );
    for piece in &pieces {
        assert!(served.contains(piece), "not served verbatim: {piece}");
    }
    assert!(
        SOURCE.contains("body’s natural painkillers"),
        "the fixture keeps its typographic apostrophe"
    );
}

#[actix_web::test]
async fn nothing_is_served_that_the_source_does_not_say() {
    let app = spawn_app().await;
    let article = app.get_json(&format!("/v1/articles/{SLUG}")).await;
    let mut served = Vec::new();
    served_texts(&article, "", &mut served);
    let pieces = source_pieces();
    for text in &served {
        assert!(
            pieces.contains(text),
            "served text not in the source: {text}"
        );
    }
}
