use std::{path::Path, process::Command};

use relief_api::{
    config::Config,
    content::{self, ContentSource},
    startup::Application,
};

use crate::helpers::{SLUG, spawn_app_with};

const BROKEN: &str = "tests/fixtures/broken";

#[test]
fn every_broken_file_is_rejected_with_its_file_line_and_reason() {
    let error = content::load(&ContentSource::dir(BROKEN)).unwrap_err();
    let problems: Vec<String> = error.problems.iter().map(ToString::to_string).collect();
    let kebab = "must be lowercase kebab-case (letters a-z, digits and single hyphens between them), as in `reduces-muscle-tension`";
    let at = |file: &str, rest: &str| format!("{BROKEN}/articles/{file}:{rest}");
    assert_eq!(
        problems,
        [
            at(
                "Bad_Name.toml",
                &format!(
                    "1:1: the file name `Bad_Name` is the article's slug, and it {kebab}; \
                     did you mean `bad-name`?"
                )
            ),
            at(
                "bad-syntax.toml",
                "1:22: invalid basic string, expected `\"`"
            ),
            at(
                "duplicate-id.toml",
                "10:6: benefits.items[1].id: `same` is already the id of another benefit in this article"
            ),
            at(
                "empty-and-bad-id.toml",
                "7:10: faqs.items[0].answer: must not be empty"
            ),
            at(
                "empty-and-bad-id.toml",
                &format!("12:6: faqs.items[1].id: `Not Kebab` {kebab}; did you mean `not-kebab`?")
            ),
            at(
                "empty-and-bad-id.toml",
                "13:12: faqs.items[1].question: must not be empty"
            ),
            at(
                "typed-position.toml",
                "6:12: `position` follows the order of items in the file, not a field; remove it (move the item to change its position)"
            ),
            at(
                "typed-readability.toml",
                "7:15: `readability` is computed from the text when it is loaded, not a field; remove it"
            ),
            at(
                "typed-review.toml",
                "3:10: `review` is computed from `last_reviewed` and `next_review` as the days pass, not a field; remove it (set those dates instead)"
            ),
            at(
                "unknown-key.toml",
                "2:1: unknown key `subtitle`; the keys are lang, title, about, audience, published_at, updated_at, last_reviewed, next_review, authors, reviewed_by, license, intro, sections, benefits, precautions, conclusion, faqs, replies, citations"
            ),
        ]
    );
}

#[actix_web::test]
async fn the_server_refuses_to_start_on_broken_content() {
    let config = Config {
        content_dir: Some(BROKEN.into()),
        ..Config::default()
    };
    let Err(error) = Application::build(&config).await else {
        panic!("the server started on broken content");
    };
    let message = error.to_string();
    assert!(
        message.starts_with("invalid content in tests/fixtures/broken: 10 problem(s)"),
        "{message}"
    );
    assert!(message.contains("duplicate-id.toml:10:6:"), "{message}");
}

#[test]
fn validate_reports_every_problem_and_exits_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .args(["validate", BROKEN])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.contains(".toml:")).count(),
        10,
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .args(["validate", "content"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "ok: 1 article(s)\n"
    );
}

#[actix_web::test]
async fn a_new_file_in_the_content_directory_is_a_new_article() {
    let dir = tempfile::tempdir().unwrap();
    let articles = dir.path().join("articles");
    std::fs::create_dir(&articles).unwrap();
    let source = Path::new("content/articles").join(format!("{SLUG}.toml"));
    std::fs::copy(&source, articles.join(format!("{SLUG}.toml"))).unwrap();
    std::fs::write(
        articles.join("another-article.toml"),
        "title = \"Another Article\"\n\n[[sections]]\nid = \"only\"\nbody = \"Just one section.\"\n",
    )
    .unwrap();

    let app = spawn_app_with(Config {
        content_dir: Some(dir.path().to_owned()),
        ..Config::default()
    })
    .await;
    let page = app.get_json("/v1/articles").await;
    assert_eq!(page["total"], 2);
    let slugs: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["another-article", SLUG]);
    let another = app
        .get_json("/v1/articles/another-article/sections/only")
        .await;
    assert_eq!(another["body"], "Just one section.");
    assert_eq!(
        app.get_json("/v1/articles/another-article/benefits").await["total"],
        0
    );
}

/// A content directory holding the source article and `oversized.toml`, a
/// file of `bytes` bytes (a TOML comment).
fn with_an_oversized_file(bytes: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let articles = dir.path().join("articles");
    std::fs::create_dir(&articles).unwrap();
    let source = Path::new("content/articles").join(format!("{SLUG}.toml"));
    std::fs::copy(&source, articles.join(format!("{SLUG}.toml"))).unwrap();
    let padding = format!("# {}\n", "x".repeat(bytes - 3));
    std::fs::write(articles.join("oversized.toml"), padding).unwrap();
    dir
}

#[test]
fn a_content_file_over_the_cap_is_refused_by_validate_before_it_is_parsed() {
    let dir = with_an_oversized_file(5 << 20);
    let output = Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .arg("validate")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("oversized.toml:1:1: is larger than 4194304 bytes, the limit on a content file (--max-content-file-bytes)"),
        "{stderr}"
    );
    // The cap is a setting: raised, the same file is read (and is valid).
    let output = Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .args(["--max-content-file-bytes", "8388608", "validate"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("larger than"), "{stderr}");
}

#[actix_web::test]
async fn a_content_file_over_the_cap_stops_the_start_naming_it() {
    let dir = with_an_oversized_file(2000);
    let config = Config {
        content_dir: Some(dir.path().to_owned()),
        max_content_file_bytes: 1000,
        ..Config::default()
    };
    let Err(error) = Application::build(&config).await else {
        panic!("the server started with a file over the cap");
    };
    let message = error.to_string();
    assert!(
        message.contains("oversized.toml:1:1: is larger than 1000 bytes"),
        "{message}"
    );
    // The source article (about 20 KB) is over a 1000-byte cap too.
    assert!(
        message.contains(&format!("{SLUG}.toml:1:1: is larger than")),
        "{message}"
    );
}
