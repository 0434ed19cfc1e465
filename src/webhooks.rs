//! Webhooks: each event in the outbox is delivered to every endpoint of
//! `--webhooks-file` that wants it, signed as Standard Webhooks asks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
//! HMAC-SHA256>`), at least once: a delivery that fails is tried again with
//! exponential backoff, and after the last try it stays in the database as
//! dead (the dead letter). Deliveries are rows in the database, so a
//! restart, or another replica, carries on where this one stopped.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::Deserialize;
use sha2::Sha256;

use crate::{events::EventType, metrics::Metrics, replies::Database};

/// The `--webhooks-file` cannot be used; says where and why.
#[derive(Debug, thiserror::Error)]
#[error("--webhooks-file {path}: {reason}")]
pub struct WebhooksFileError {
    path: PathBuf,
    reason: String,
}

/// The endpoints file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    endpoint: Vec<EndpointEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointEntry {
    url: String,
    secret: String,
    events: Vec<EventType>,
}

/// One endpoint: where to post, how to sign, what it wants.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    key: Vec<u8>,
    events: HashSet<EventType>,
}

impl Endpoint {
    /// The `webhook-signature` of the message `id` sent at `timestamp`
    /// (seconds since the epoch) with `body`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        sign(&self.key, id, timestamp, body)
    }
}

/// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under `key`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The secret's key: the base64 after `whsec_`.
fn key_of(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .strip_prefix("whsec_")
        .ok_or("a secret starts with `whsec_` (the Standard Webhooks format)")?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| "a secret is `whsec_` and base64")?;
    if !(24..=64).contains(&key.len()) {
        return Err(format!(
            "a secret's key is 24 to 64 bytes, not {} (make one with `openssl rand -base64 32`)",
            key.len()
        ));
    }
    Ok(key)
}

/// The endpoints events are delivered to.
#[derive(Debug, Clone, Default)]
pub struct Endpoints(Vec<Endpoint>);

impl Endpoints {
    /// Reads `path`; none without one. A file that does not parse or
    /// breaks a rule stops the start, saying where.
    pub fn load(path: Option<&Path>) -> Result<Self, WebhooksFileError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let error = |reason: String| WebhooksFileError {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let file: File = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
        let endpoints = file
            .endpoint
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let at =
                    |reason: String| error(format!("endpoint {} ({}): {reason}", i + 1, entry.url));
                let url: reqwest::Url = entry
                    .url
                    .parse()
                    .map_err(|e| at(format!("not a URL: {e}")))?;
                if !matches!(url.scheme(), "https" | "http") {
                    return Err(at("an endpoint's URL is http or https".into()));
                }
                if entry.events.is_empty() {
                    return Err(at("an endpoint wants at least one event".into()));
                }
                Ok(Endpoint {
                    url: entry.url.clone(),
                    key: key_of(&entry.secret).map_err(at)?,
                    events: entry.events.into_iter().collect(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(endpoints))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The URLs of the endpoints that want `kind` (as stored).
    pub fn wanting(&self, kind: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|endpoint| endpoint.events.iter().any(|e| e.as_str() == kind))
            .map(|endpoint| endpoint.url.clone())
            .collect()
    }

    fn get(&self, url: &str) -> Option<&Endpoint> {
        self.0.iter().find(|endpoint| endpoint.url == url)
    }
}

/// How deliveries are tried.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    /// Tries before a delivery is given up (dead).
    pub max_attempts: u32,
    /// The pause after the first failure; each next one doubles, up to
    /// [`MAX_PAUSE`].
    pub first_pause: Duration,
}

/// The longest pause between two tries of one delivery.
pub const MAX_PAUSE: Duration = Duration::from_secs(3600);
/// How long one try may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often the outbox is looked at when nothing wakes the worker: for
/// deliveries that came due. Events wake it ([`Database::announcement`]):
/// this server's when written, another replica's when PostgreSQL's
/// notification of them arrives.
const TICK: Duration = Duration::from_millis(250);
/// How long a delivery taken for a try is left to its taker: longer than
/// a try can last. A process that dies mid-try leaves it due again after
/// this (at least once: the endpoint may then get it twice).
const LEASE: Duration = Duration::from_secs(15);
/// Deliveries tried at once.
const BATCH: usize = 16;
/// How long events and finished deliveries are kept.
const KEEP_EVENTS: Duration = Duration::from_secs(7 * 86_400);
/// How often those older are forgotten, and how soon again after a try
/// that failed (the database was down).
const FORGET_EVERY: Duration = Duration::from_secs(3600);
const FORGET_RETRY: Duration = Duration::from_secs(60);

impl Retries {
    /// The pause before try `attempt + 1`, after `attempt` failed ones.
    pub fn pause(&self, failed: u32) -> Duration {
        let doubled = self
            .first_pause
            .saturating_mul(1 << failed.saturating_sub(1).min(20));
        doubled.min(MAX_PAUSE)
    }
}

/// Delivers the outbox's events, until the process ends: makes each new
/// event's deliveries, tries those due, and records what came of them.
/// `latest` is told the newest event's number (the live stream waits on it).
pub async fn deliver_forever(
    db: Arc<Database>,
    endpoints: Arc<Endpoints>,
    retries: Retries,
    metrics: Arc<Metrics>,
    latest: tokio::sync::watch::Sender<i64>,
) {
    // HTTPS endpoints are verified against the system's roots, with the
    // crypto `startup::install_crypto_provider` chose.
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("relief-api/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            tracing::error!("webhooks are off: no HTTP client ({error})");
            return;
        }
    };
    // Old events are forgotten at start too: a server restarted more often
    // than hourly (deploys, replicas coming and going) would otherwise
    // keep them for good.
    let mut next_cleanup = std::time::Instant::now();
    loop {
        if let Err(error) = round(&db, &endpoints, retries, &metrics, &client, &latest).await {
            tracing::warn!("webhooks: {error}; trying again shortly");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if std::time::Instant::now() >= next_cleanup {
            let before = crate::replies::now_millis() - KEEP_EVENTS.as_millis() as i64;
            next_cleanup = std::time::Instant::now()
                + match db.forget_events(before).await {
                    Ok(()) => FORGET_EVERY,
                    Err(error) => {
                        tracing::warn!("webhooks: old events not forgotten ({error})");
                        FORGET_RETRY
                    }
                };
        }
        // Woken at once by events, this server's or (on a shared
        // PostgreSQL) another replica's; the tick also covers a
        // notification lost while the listener reconnects.
        let _ = tokio::time::timeout(TICK, db.announcement()).await;
    }
}

/// One look at the outbox.
async fn round(
    db: &Database,
    endpoints: &Endpoints,
    retries: Retries,
    metrics: &Metrics,
    client: &reqwest::Client,
    latest: &tokio::sync::watch::Sender<i64>,
) -> Result<(), crate::replies::ReplyError> {
    let newest = db.fan_out(&|kind| endpoints.wanting(kind)).await?;
    latest.send_if_modified(|seen| {
        let newer = newest > *seen;
        if newer {
            *seen = newest;
        }
        newer
    });
    if endpoints.is_empty() {
        return Ok(());
    }
    let due = db.due_deliveries(BATCH, LEASE).await?;
    let tries = due.into_iter().map(|due| async move {
        let outcome = match endpoints.get(&due.endpoint) {
            // An endpoint no longer in the file: given up at once.
            None => Err("the endpoint is no longer in --webhooks-file".to_owned()),
            Some(endpoint) => post(client, endpoint, &due).await,
        };
        (due, outcome)
    });
    for (due, outcome) in futures_util::future::join_all(tries).await {
        let attempts = due.attempts + 1;
        match outcome {
            Ok(()) => {
                db.delivery_done(due.id, attempts).await?;
                metrics.webhook("delivered");
            }
            Err(error) if attempts >= retries.max_attempts => {
                tracing::warn!(
                    endpoint = due.endpoint,
                    event = due.event_id,
                    attempts,
                    "webhook given up: {error}"
                );
                db.delivery_failed(due.id, attempts, None, &error).await?;
                metrics.webhook("dead");
            }
            Err(error) => {
                let pause = retries.pause(attempts);
                let next = crate::replies::now_millis() + pause.as_millis() as i64;
                tracing::info!(
                    endpoint = due.endpoint,
                    event = due.event_id,
                    attempts,
                    "webhook failed, tried again in {pause:?}: {error}"
                );
                db.delivery_failed(due.id, attempts, Some(next), &error)
                    .await?;
                metrics.webhook("failed");
            }
        }
    }
    Ok(())
}

/// One try: the event's bytes, signed; any 2xx is delivered.
async fn post(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    due: &crate::replies::DueDelivery,
) -> Result<(), String> {
    let timestamp = crate::replies::now_millis() / 1000;
    let response = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &due.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            endpoint.sign(&due.event_id, timestamp, &due.payload),
        )
        .body(due.payload.clone())
        .send()
        .await
        .map_err(|error| format!("not delivered: {error}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_reference_one() {
        // The example in the Standard Webhooks specification.
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_is_whsec_and_base64_of_enough_bytes() {
        assert!(key_of("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(key_of("whsec_not base64!").is_err());
        assert!(key_of("whsec_c2hvcnQ=").is_err(), "5 bytes is too short");
    }

    #[test]
    fn pauses_double_up_to_an_hour() {
        let retries = Retries {
            max_attempts: 30,
            first_pause: Duration::from_secs(1),
        };
        let pauses: Vec<u64> = (1..=4).map(|n| retries.pause(n).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8]);
        assert_eq!(retries.pause(29), MAX_PAUSE);
    }

    fn file(text: &str) -> Result<Endpoints, WebhooksFileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webhooks.toml");
        std::fs::write(&path, text).unwrap();
        Endpoints::load(Some(&path))
    }

    #[test]
    fn an_endpoints_file_names_what_each_endpoint_wants() {
        let endpoints = file(
            r#"
[[endpoint]]
url = "https://hooks.example.com/a"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
events = ["content.updated", "reply.submitted"]
"#,
        )
        .unwrap();
        assert_eq!(
            endpoints.wanting("content.updated"),
            ["https://hooks.example.com/a"]
        );
        assert!(endpoints.wanting("reply.approved").is_empty());
    }

    #[test]
    fn a_bad_endpoints_file_says_where_and_why() {
        let unknown = file("[[endpoint]]\nurl = \"https://a.example\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"content.eaten\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("webhooks.toml") && unknown.contains("line 4"),
            "{unknown}"
        );
        let scheme = file("[[endpoint]]\nurl = \"ftp://a.example\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"content.updated\"]\n")
            .unwrap_err()
            .to_string();
        assert!(scheme.contains("http or https"), "{scheme}");
    }
}
