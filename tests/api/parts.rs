use serde_json::Value;

use crate::helpers::{SLUG, spawn_app};

fn titles(list: &Value, key: &str) -> Vec<(u64, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["position"].as_u64().unwrap(),
                item[key].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn numbered(texts: &[&str]) -> Vec<(u64, String)> {
    (1..).zip(texts.iter().map(|t| (*t).to_owned())).collect()
}

#[actix_web::test]
async fn the_seven_benefits_come_in_order_with_their_text() {
    let app = spawn_app().await;
    let list = app.get_json(&format!("/v1/articles/{SLUG}/benefits")).await;
    assert_eq!(list["total"], 7);
    assert_eq!(
        titles(&list, "title"),
        numbered(&[
            "Reduces Muscle Tension",
            "Increases Blood Circulation",
            "Breaks Down Scar Tissue",
            "Improves Posture",
            "Promotes Relaxation and Stress Relief",
            "Enhances Range of Motion",
            "Complements Other Therapies",
        ])
    );
    assert_eq!(
        list["items"][0]["body"],
        "Deep tissue massage effectively helps in reducing muscle tension, which is often a leading cause of back pain. By targeting the deeper layers of muscles, it helps release any built-up tension and promotes relaxation."
    );
}

#[actix_web::test]
async fn the_five_precautions_come_in_order_with_their_text() {
    let app = spawn_app().await;
    let list = app
        .get_json(&format!("/v1/articles/{SLUG}/precautions"))
        .await;
    assert_eq!(list["total"], 5);
    assert_eq!(
        titles(&list, "title"),
        numbered(&[
            "Professional Massage Therapist",
            "Communication",
            "Temporary Discomfort",
            "Post-Massage Care",
            "Medical Consultation",
        ])
    );
    assert_eq!(
        list["items"][4]["body"],
        "If you have any underlying medical conditions or concerns, it is always advisable to consult your healthcare provider before undergoing deep tissue massage or any other form of treatment for back pain."
    );
}

#[actix_web::test]
async fn the_four_faqs_come_in_order_without_their_markers() {
    let app = spawn_app().await;
    let list = app.get_json(&format!("/v1/articles/{SLUG}/faqs")).await;
    assert_eq!(list["total"], 4);
    assert_eq!(
        titles(&list, "question"),
        numbered(&[
            "What is deep tissue massage?",
            "How does deep tissue massage help with back pain relief?",
            "Can deep tissue massage improve blood circulation in the affected area?",
            "Does deep tissue massage help improve posture?",
        ])
    );
    let answer = list["items"][3]["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("Yes, deep tissue massage can help improve posture."),
        "{answer}"
    );
}

#[actix_web::test]
async fn the_sections_are_intro_understanding_and_conclusion() {
    let app = spawn_app().await;
    let list = app.get_json(&format!("/v1/articles/{SLUG}/sections")).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "introduction",
            "understanding-deep-tissue-massage",
            "conclusion"
        ]
    );
    assert_eq!(
        list["items"][0].get("heading"),
        None,
        "the intro has no heading"
    );
    assert_eq!(list["items"][2]["position"], 3);
}

#[actix_web::test]
async fn every_part_fetched_alone_equals_its_entry_in_the_list() {
    let app = spawn_app().await;
    for kind in ["sections", "benefits", "precautions", "faqs"] {
        let list = app.get_json(&format!("/v1/articles/{SLUG}/{kind}")).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(list["total"], items.len());
        for item in items {
            let id = item["id"].as_str().unwrap();
            let alone = app
                .get_json(&format!("/v1/articles/{SLUG}/{kind}/{id}"))
                .await;
            assert_eq!(&alone, item, "{kind}/{id}");
        }
    }
}

#[actix_web::test]
async fn the_whole_article_embeds_the_same_parts() {
    let app = spawn_app().await;
    let article = app.get_json(&format!("/v1/articles/{SLUG}")).await;
    for kind in ["benefits", "precautions", "faqs"] {
        let list = app.get_json(&format!("/v1/articles/{SLUG}/{kind}")).await;
        assert_eq!(article[kind]["items"], list["items"], "{kind}");
    }
}
