//! schema.org JSON-LD for search engines: a `MedicalWebPage` about the
//! article's subject, and an `FAQPage` of its questions. Every value is
//! taken from the article as served; nothing is made up, and what the
//! content does not say (dates, authors) is left out.

use serde_json::{Map, Value, json};

/// The JSON-LD of an article, from its JSON as served.
pub fn article_jsonld(article: &Value) -> Value {
    let text = |key: &str| article.get(key).and_then(Value::as_str);
    let people = |key: &str| -> Option<Value> {
        let names = article.get(key)?.as_array()?;
        Some(Value::Array(
            names
                .iter()
                .filter_map(Value::as_str)
                .map(|name| json!({ "@type": "Person", "name": name }))
                .collect(),
        ))
    };

    let mut page = Map::new();
    page.insert("@type".into(), "MedicalWebPage".into());
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            page.insert(key.into(), value);
        }
    };
    put("name", text("title").map(Into::into));
    put("headline", text("title").map(Into::into));
    put("inLanguage", text("lang").map(Into::into));
    put(
        "description",
        article
            .pointer("/intro/body")
            .and_then(Value::as_str)
            .map(Into::into),
    );
    put(
        "about",
        text("about").map(|name| json!({ "@type": "MedicalTherapy", "name": name })),
    );
    put("datePublished", text("published_at").map(Into::into));
    put("dateModified", text("updated_at").map(Into::into));
    put("lastReviewed", text("last_reviewed").map(Into::into));
    put("author", people("authors"));
    put("reviewedBy", people("reviewed_by"));
    put("license", text("license").map(Into::into));

    let mut graph = vec![Value::Object(page)];
    let questions: Vec<Value> = article
        .pointer("/faqs/items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|faq| {
            json!({
                "@type": "Question",
                "name": faq["question"],
                "acceptedAnswer": { "@type": "Answer", "text": faq["answer"] },
            })
        })
        .collect();
    if !questions.is_empty() {
        let mut faq_page = json!({ "@type": "FAQPage", "mainEntity": questions });
        if let Some(lang) = text("lang") {
            faq_page["inLanguage"] = lang.into();
        }
        graph.push(faq_page);
    }
    json!({ "@context": "https://schema.org", "@graph": graph })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_article_does_not_say_is_left_out() {
        let article = json!({ "title": "T", "lang": "en", "faqs": { "items": [] } });
        let jsonld = article_jsonld(&article);
        let graph = jsonld["@graph"].as_array().unwrap();
        assert_eq!(graph.len(), 1, "no FAQPage without questions");
        let page = graph[0].as_object().unwrap();
        let keys: Vec<&str> = page.keys().map(String::as_str).collect();
        assert_eq!(keys, ["@type", "headline", "inLanguage", "name"]);
    }
}
