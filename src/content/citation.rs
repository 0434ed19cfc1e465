//! Sources: what an article, or one of its parts, relies on. Each is
//! checked in its own syntax when the content is loaded: a DOI as
//! `10.<registrant>/<suffix>`, a PubMed id as digits, a URL as absolute
//! https. Nothing is looked up: the content is data, checked offline.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Date;

/// A source the text relies on: at least one of `url`, `doi` or `pmid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// The source's title.
    #[schema(example = "Massage for low-back pain")]
    pub title: String,
    /// Where to read it: an absolute `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD001929.pub3/full"
    )]
    pub url: Option<String>,
    /// Its Digital Object Identifier, without `https://doi.org/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "10.1002/14651858.CD001929.pub3",
        pattern = r"^10\.\d{4,9}/\S+$"
    )]
    pub doi: Option<String>,
    /// Its PubMed id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "26329399", pattern = r"^[1-9]\d{0,8}$")]
    pub pmid: Option<String>,
    /// When the source was last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2024-05-01")]
    pub accessed: Option<Date>,
}

impl Citation {
    /// Every rule the citation breaks, as (field, reason).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.url.is_none() && self.doi.is_none() && self.pmid.is_none() {
            problems.push((
                "title",
                "a citation needs at least one of `url`, `doi` or `pmid`".to_owned(),
            ));
        }
        if let Some(url) = &self.url
            && !is_https_url(url)
        {
            problems.push(("url", format!("`{url}` is not an absolute https URL")));
        }
        if let Some(doi) = &self.doi
            && !is_doi(doi)
        {
            problems.push((
                "doi",
                format!("`{doi}` is not a DOI (`10.` a registrant code, `/`, a suffix: 10.1002/14651858.CD001929.pub3)"),
            ));
        }
        if let Some(pmid) = &self.pmid
            && !is_pmid(pmid)
        {
            problems.push((
                "pmid",
                format!("`{pmid}` is not a PubMed id (1 to 9 digits)"),
            ));
        }
        problems
    }

    /// The DOI as a URL, for JSON-LD.
    pub fn doi_url(&self) -> Option<String> {
        self.doi
            .as_ref()
            .map(|doi| format!("https://doi.org/{doi}"))
    }

    /// The PubMed id as a URL, for JSON-LD.
    pub fn pmid_url(&self) -> Option<String> {
        self.pmid
            .as_ref()
            .map(|pmid| format!("https://pubmed.ncbi.nlm.nih.gov/{pmid}/"))
    }
}

/// `https://`, a host of letters, digits, dots and hyphens (with an
/// optional port), then an optional path; no whitespace.
fn is_https_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    !name.is_empty()
        && name.contains('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port.chars().all(|c| c.is_ascii_digit())
        && !url.chars().any(char::is_whitespace)
}

/// `10.`, a registrant code of 4 to 9 digits (with optional `.`
/// sub-codes), `/`, a suffix without whitespace.
fn is_doi(doi: &str) -> bool {
    let Some((prefix, suffix)) = doi.split_once('/') else {
        return false;
    };
    let Some(registrant) = prefix.strip_prefix("10.") else {
        return false;
    };
    let code = registrant.split('.').next().unwrap_or_default();
    (4..=9).contains(&code.len())
        && registrant.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !suffix.is_empty()
        && !suffix.chars().any(char::is_whitespace)
}

/// 1 to 9 digits, not starting with 0.
fn is_pmid(pmid: &str) -> bool {
    (1..=9).contains(&pmid.len())
        && !pmid.starts_with('0')
        && pmid.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_pmids_and_urls_are_checked_in_their_own_syntax() {
        for doi in [
            "10.1002/14651858.CD001929.pub3",
            "10.1136/bmj.m2980",
            "10.12345.6/x",
        ] {
            assert!(is_doi(doi), "{doi}");
        }
        for doi in [
            "10.12/short",
            "11.1002/x",
            "10.1002/",
            "10.1002/a b",
            "doi:10.1002/x",
        ] {
            assert!(!is_doi(doi), "{doi}");
        }
        assert!(is_pmid("26329399"));
        for pmid in ["", "0123", "12a", "1234567890"] {
            assert!(!is_pmid(pmid), "{pmid}");
        }
        assert!(is_https_url("https://www.nhs.uk/conditions/back-pain/"));
        assert!(is_https_url("https://example.org:8443/a?b#c"));
        for url in [
            "http://www.nhs.uk/",
            "https://",
            "https://localhost/",
            "https://a b.org/",
            "www.nhs.uk",
        ] {
            assert!(!is_https_url(url), "{url}");
        }
    }

    #[test]
    fn a_citation_names_at_least_one_way_to_find_it() {
        let bare = Citation {
            title: "A source".into(),
            url: None,
            doi: None,
            pmid: None,
            accessed: None,
        };
        assert_eq!(bare.problems().len(), 1);
        let found = Citation {
            pmid: Some("26329399".into()),
            ..bare
        };
        assert!(found.problems().is_empty());
        assert_eq!(
            found.pmid_url().as_deref(),
            Some("https://pubmed.ncbi.nlm.nih.gov/26329399/")
        );
    }
}
