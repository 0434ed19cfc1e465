//! Review status: an editor sets `last_reviewed` and `next_review`; readers
//! and editors see whether the article is current, due, overdue or never
//! reviewed, as of today.

use relief_api::content::Date;
use serde_json::Value;

use crate::helpers::{ContentDir, SLUG, spawn_app_with};

/// A short article named `slug` with these review dates (`None`: unset).
fn article(slug: &str, last: Option<Date>, next: Option<Date>) -> String {
    let date =
        |key: &str, date: Option<Date>| date.map_or(String::new(), |d| format!("{key} = {d}\n"));
    format!(
        "title = \"{slug}\"\n{}{}[intro]\nid = \"intro\"\nbody = \"Text.\"\n",
        date("last_reviewed", last),
        date("next_review", next)
    )
}

/// The source article (never reviewed) beside one article of each other
/// status, dated from today.
fn content_of_every_status() -> ContentDir {
    let content = ContentDir::with_source_article();
    let today = Date::today();
    let articles = [
        (
            "current-one",
            Some(today.plus_days(-10)),
            Some(today.plus_days(200)),
        ),
        (
            "due-one",
            Some(today.plus_days(-300)),
            Some(today.plus_days(12)),
        ),
        (
            "overdue-one",
            Some(today.plus_days(-400)),
            Some(today.plus_days(-1)),
        ),
        // No next review: a year after the last, so overdue since 35 days.
        ("yearly-one", Some(today.plus_days(-400)), None),
    ];
    for (slug, last, next) in articles {
        std::fs::write(
            content.path().join("articles").join(format!("{slug}.toml")),
            article(slug, last, next),
        )
        .unwrap();
    }
    content
}

fn slugs(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["slug"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn every_article_says_where_it_stands_with_its_review_as_of_today() {
    let content = content_of_every_status();
    let app = spawn_app_with(content.config()).await;
    let today = Date::today();

    let due = app.get_json("/v1/articles/due-one").await;
    assert_eq!(
        due["review"],
        serde_json::json!({
            "last_reviewed": today.plus_days(-300).to_string(),
            "next_review": today.plus_days(12).to_string(),
            "status": "due",
        })
    );
    let yearly = app.get_json("/v1/articles/yearly-one").await;
    assert_eq!(
        yearly["review"]["next_review"],
        today.plus_days(-35).to_string()
    );
    assert_eq!(yearly["review"]["status"], "overdue");
    // The source article gives no review date: it was never reviewed, and
    // nothing is made up for it.
    let source = app.get_json(&format!("/v1/articles/{SLUG}")).await;
    assert_eq!(
        source["review"],
        serde_json::json!({ "last_reviewed": null, "next_review": null, "status": "unreviewed" })
    );

    // The list carries each article's review too.
    let list = app.get_json("/v1/articles").await;
    let statuses: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["slug"].as_str().unwrap(),
                item["review"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("current-one", "current"),
            (SLUG, "unreviewed"),
            ("due-one", "due"),
            ("overdue-one", "overdue"),
            ("yearly-one", "overdue"),
        ]
    );
}

#[actix_web::test]
async fn editors_list_what_is_overdue_or_due_and_page_through_it() {
    let content = content_of_every_status();
    let app = spawn_app_with(content.config()).await;

    let overdue = app.get("/v1/articles?review_status=overdue").await;
    assert_eq!(overdue.status, 200);
    let page = overdue.json();
    assert_eq!(slugs(&page), ["overdue-one", "yearly-one"]);
    assert_eq!(page["total"], 2);
    let due = app.get_json("/v1/articles?review_status=due").await;
    assert_eq!(slugs(&due), ["due-one"]);

    // Pages of a filtered list link to pages of the same filter.
    let first = app.get("/v1/articles?review_status=overdue&limit=1").await;
    assert_eq!(slugs(&first.json()), ["overdue-one"]);
    let link = first.header("link").unwrap();
    assert!(
        link.contains("</v1/articles?review_status=overdue&limit=1&offset=1>; rel=\"next\""),
        "{link}"
    );
    let next = app
        .get_json("/v1/articles?review_status=overdue&limit=1&offset=1")
        .await;
    assert_eq!(slugs(&next), ["yearly-one"]);
}

#[actix_web::test]
async fn an_unknown_review_status_is_a_400_problem_naming_the_ones_there_are_and_the_one_meant() {
    let app = spawn_app_with(content_of_every_status().config()).await;
    let problem = app
        .get("/v1/articles?review_status=stale")
        .await
        .problem(400);
    assert_eq!(
        problem["detail"],
        "query parameter `review_status` must be one of `current`, `due`, `overdue`, \
         `unreviewed`, not `stale`"
    );
    let problem = app
        .get("/v1/articles?review_status=over-due")
        .await
        .problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.ends_with("; did you mean `overdue`?"), "{detail}");
}

#[actix_web::test]
async fn json_ld_says_when_the_article_was_last_reviewed_and_by_whom() {
    let content = ContentDir::with_source_article();
    let title = r#"title = "Back Pain Relief With Deep Tissue Massage""#;
    content.edit(
        title,
        &format!("{title}\nlast_reviewed = 2026-01-05\nreviewed_by = [\"Dr. B. Reviewer\"]"),
    );
    let app = spawn_app_with(content.config()).await;
    let jsonld = app
        .get_json_ld(&format!("/v1/articles/{SLUG}/jsonld"))
        .await;
    let page = &jsonld["@graph"][0];
    assert_eq!(page["lastReviewed"], "2026-01-05");
    assert_eq!(
        page["reviewedBy"],
        serde_json::json!([{ "@type": "Person", "name": "Dr. B. Reviewer" }])
    );
}

#[test]
fn validate_warns_of_overdue_articles_and_still_passes_them() {
    let content = content_of_every_status();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .arg("validate")
        .arg(content.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warned.len(), 2, "{stderr}");
    let since = Date::today().plus_days(-1);
    assert!(
        warned[0].contains("`overdue-one`")
            && warned[0].contains(&format!("overdue since {since}")),
        "{stderr}"
    );
    assert!(warned[1].contains("`yearly-one`"), "{stderr}");
}
