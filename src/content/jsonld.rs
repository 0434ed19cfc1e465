//! schema.org JSON-LD for search engines: a `MedicalWebPage` about the
//! article's subject, and an `FAQPage` of its questions. Every value is
//! taken from the article's typed fields; nothing is made up, and what the
//! content does not say (dates, authors) is left out.

use serde_json::{Map, Value, json};

use super::Article;

/// The JSON-LD of an article.
pub fn article_jsonld(article: &Article) -> Value {
    let people = |names: &[String]| -> Option<Value> {
        (!names.is_empty()).then(|| {
            names
                .iter()
                .map(|name| json!({ "@type": "Person", "name": name }))
                .collect()
        })
    };
    let date = |date: Option<super::Date>| date.map(|date| Value::from(date.to_string()));

    let mut page = Map::new();
    page.insert("@type".into(), "MedicalWebPage".into());
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            page.insert(key.into(), value);
        }
    };
    put("name", Some(article.title.as_str().into()));
    put("headline", Some(article.title.as_str().into()));
    put("inLanguage", Some(article.lang.as_str().into()));
    put(
        "description",
        article
            .intro
            .as_ref()
            .map(|intro| intro.body.as_str().into()),
    );
    put(
        "about",
        article
            .about
            .as_ref()
            .map(|name| json!({ "@type": "MedicalTherapy", "name": name })),
    );
    put(
        "medicalAudience",
        article.audience.map(|audience| {
            json!({ "@type": "MedicalAudience", "audienceType": audience.schema_name() })
        }),
    );
    put("datePublished", date(article.published_at));
    put("dateModified", date(article.updated_at));
    put("lastReviewed", date(article.last_reviewed));
    let citations: Vec<Value> = article
        .citations
        .iter()
        .chain(article.benefits.items.iter().flat_map(|b| &b.citations))
        .chain(article.precautions.items.iter().flat_map(|p| &p.citations))
        .chain(article.faqs.items.iter().flat_map(|f| &f.citations))
        .map(|citation| {
            let mut urls = citation
                .url
                .iter()
                .cloned()
                .chain(citation.doi_url())
                .chain(citation.pmid_url());
            let mut work = json!({ "@type": "CreativeWork", "name": citation.title });
            if let Some(url) = urls.next() {
                work["url"] = url.into();
            }
            let same: Vec<String> = urls.collect();
            if !same.is_empty() {
                work["sameAs"] = same.into();
            }
            work
        })
        .fold(Vec::new(), |mut unique, work| {
            if !unique.contains(&work) {
                unique.push(work);
            }
            unique
        });
    put(
        "citation",
        (!citations.is_empty()).then(|| citations.into()),
    );
    put("author", people(&article.authors));
    put("reviewedBy", people(&article.reviewed_by));
    put(
        "license",
        article
            .license
            .as_ref()
            .map(|license| license.as_str().into()),
    );

    let mut graph = vec![Value::Object(page)];
    let questions: Vec<Value> = article
        .faqs
        .items
        .iter()
        .map(|faq| {
            json!({
                "@type": "Question",
                "name": faq.question,
                "acceptedAnswer": { "@type": "Answer", "text": faq.answer },
            })
        })
        .collect();
    if !questions.is_empty() {
        graph.push(json!({
            "@type": "FAQPage",
            "mainEntity": questions,
            "inLanguage": article.lang.as_str(),
        }));
    }
    json!({ "@context": "https://schema.org", "@graph": graph })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_article_does_not_say_is_left_out() {
        let article: Article =
            serde_json::from_value(json!({ "title": "T", "lang": "en", "faqs": { "items": [] } }))
                .unwrap();
        let jsonld = article_jsonld(&article);
        let graph = jsonld["@graph"].as_array().unwrap();
        assert_eq!(graph.len(), 1, "no FAQPage without questions");
        let page = graph[0].as_object().unwrap();
        let keys: Vec<&str> = page.keys().map(String::as_str).collect();
        assert_eq!(keys, ["@type", "name", "headline", "inLanguage"]);
    }
}
