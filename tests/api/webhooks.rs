//! A moderation tool and a CDN purger listen on webhook endpoints: they get
//! every event they asked for, signed so they can tell it is ours, even when
//! they were down for a while or the server restarted meanwhile.

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use relief_api::{config::Config, startup::Application};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{
    Backend, ContentDir, SLUG, ServerProcess, TestApp, TestDatabase, spawn_app_on,
};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What a receiver was sent: the Standard Webhooks headers and the body.
#[derive(Debug, Clone)]
struct Delivery {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Delivery {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Whether the signature is right for `SECRET`, checked as a receiver
    /// would, with nothing of the server's code.
    fn signed_with_the_secret(&self) -> bool {
        let key = STANDARD
            .decode(SECRET.trim_start_matches("whsec_"))
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signature
            .split(' ')
            .any(|signature| signature == expected)
    }
}

/// A webhook endpoint: records what it is sent while up, answers 503 while down.
struct Receiver {
    url: String,
    up: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    fn start(up: bool) -> Self {
        let up = Arc::new(AtomicBool::new(up));
        let got = Arc::new(Mutex::new(Vec::new()));
        let state = (up.clone(), got.clone());
        // On a thread and runtime of its own: a test may block its own
        // runtime (waiting on a server process) while deliveries arrive.
        let (ports, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let state = state.clone();
                    App::new().default_service(web::to(move |req: HttpRequest, body: String| {
                        let (up, got) = state.clone();
                        async move {
                            if !up.load(Ordering::SeqCst) {
                                return HttpResponse::ServiceUnavailable().finish();
                            }
                            let header = |name: &str| {
                                req.headers()
                                    .get(name)
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or_default()
                                    .to_owned()
                            };
                            got.lock().unwrap().push(Delivery {
                                id: header("webhook-id"),
                                timestamp: header("webhook-timestamp"),
                                signature: header("webhook-signature"),
                                body,
                            });
                            HttpResponse::NoContent().finish()
                        }
                    }))
                })
                .workers(1)
                .bind("127.0.0.1:0")
                .unwrap();
                ports.send(server.addrs()[0].port()).unwrap();
                server.run().await
            })
        });
        let port = port.recv().unwrap();
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            up,
            got,
        }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `count` deliveries of type `kind` arrived; returns them.
    async fn wait_for(&self, kind: &str, count: usize, within: Duration) -> Vec<Delivery> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let found: Vec<Delivery> = self
                .deliveries()
                .into_iter()
                .filter(|d| d.json()["type"] == kind)
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} `{kind}` deliveries of {count} within {within:?}; got {:?}",
                found.len(),
                self.deliveries()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A webhooks file sending `events` to `url`.
fn webhooks_file(dir: &tempfile::TempDir, url: &str, events: &[&str]) -> PathBuf {
    let path = dir.path().join("webhooks.toml");
    let events: Vec<String> = events.iter().map(|e| format!("\"{e}\"")).collect();
    std::fs::write(
        &path,
        format!(
            "[[endpoint]]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\nevents = [{}]\n",
            events.join(", ")
        ),
    )
    .unwrap();
    path
}

/// The app with replies in a SQLite file, sending `events` to `receiver`;
/// other settings from `config`. The temp dir holds the webhooks file.
async fn spawn_with_webhooks(
    receiver: &Receiver,
    events: &[&str],
    config: Config,
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_on(
        TestDatabase::create(Backend::Sqlite).await.unwrap(),
        Config {
            webhooks_file: Some(webhooks_file(&dir, &receiver.url, events)),
            ..config
        },
    )
    .await;
    (app, dir)
}

/// The app's `/metrics` text.
async fn metrics(app: &TestApp) -> String {
    String::from_utf8(app.get("/metrics").await.body.to_vec()).unwrap()
}

fn dana(body: &str) -> Value {
    json!({ "author_name": "Dana", "author_email": "dana@example.com", "body": body })
}

#[actix_web::test]
async fn an_endpoint_gets_signed_events_for_replies_and_content_changes() {
    let receiver = Receiver::start(true);
    let content = ContentDir::with_source_article();
    let all = [
        "content.published",
        "content.updated",
        "content.deleted",
        "reply.submitted",
        "reply.approved",
    ];
    let (app, _dir) = spawn_with_webhooks(&receiver, &all, content.config()).await;

    // The content served at start is published.
    let published = receiver
        .wait_for("content.published", 1, Duration::from_secs(10))
        .await;
    assert_eq!(published[0].json()["data"]["article"], SLUG);

    let id = app.post_reply(dana("Helped my back")).await;
    let submitted = receiver
        .wait_for("reply.submitted", 1, Duration::from_secs(10))
        .await;
    let event = submitted[0].json();
    assert_eq!(event["data"]["id"], id);
    assert_eq!(event["data"]["body"], "Helped my back");
    assert!(
        event["data"].get("author_email").is_none(),
        "an email address never leaves the server: {event}"
    );
    app.moderate(id, "approved").await;
    receiver
        .wait_for("reply.approved", 1, Duration::from_secs(10))
        .await;

    content.edit(
        "Poor posture is a common contributing factor to back pain.",
        "Poor posture is a frequent contributing factor to back pain.",
    );
    assert!(app.reload().await);
    let updated = receiver
        .wait_for("content.updated", 1, Duration::from_secs(10))
        .await;
    let data = &updated[0].json()["data"];
    let keys: Vec<&str> = data["purge_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    for key in [
        format!("article:{SLUG}"),
        format!("article:{SLUG}:en"),
        format!("benefit:{SLUG}:improves-posture"),
        "bundle".into(),
    ] {
        assert!(keys.contains(&key.as_str()), "{key} in {keys:?}");
    }
    let benefit = app
        .get(&format!("/v1/articles/{SLUG}/benefits/improves-posture"))
        .await;
    for key in benefit.header("surrogate-key").unwrap().split(' ') {
        assert!(
            keys.contains(&key),
            "the event purges what the response names: {key}"
        );
    }
    // The event's sync token answers what changed.
    let sync = app
        .get_json(&format!(
            "/v1/sync?sync_token={}",
            data["sync_token"].as_str().unwrap()
        ))
        .await;
    let ids: Vec<&str> = sync["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [SLUG, "improves-posture"]);

    let every = receiver.deliveries();
    assert_eq!(every.len(), 4);
    for delivery in &every {
        assert!(delivery.signed_with_the_secret(), "{delivery:?}");
        assert!(delivery.id.starts_with("msg_"));
    }
    let metrics = metrics(&app).await;
    assert!(
        metrics.contains("webhook_deliveries_total{outcome=\"delivered\"} 4"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn an_endpoint_that_was_down_gets_every_event_when_it_comes_back() {
    let receiver = Receiver::start(false);
    let (app, _dir) = spawn_with_webhooks(&receiver, &["reply.submitted"], Config::default()).await;
    for n in 0..3 {
        app.post_reply(dana(&format!("reply {n}"))).await;
    }
    // Down for the first tries.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.deliveries().is_empty());
    let metrics = metrics(&app).await;
    assert!(
        !metrics.contains("webhook_deliveries_total{outcome=\"failed\"} 0"),
        "failed tries are counted: {metrics}"
    );
    receiver.up.store(true, Ordering::SeqCst);
    let got = receiver
        .wait_for("reply.submitted", 3, Duration::from_secs(15))
        .await;
    let mut bodies: Vec<String> = got
        .iter()
        .map(|d| d.json()["data"]["body"].as_str().unwrap().to_owned())
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["reply 0", "reply 1", "reply 2"]);
}

#[actix_web::test]
async fn a_delivery_that_never_succeeds_ends_in_the_dead_letter_and_is_counted() {
    let receiver = Receiver::start(false);
    let (app, _dir) = spawn_with_webhooks(
        &receiver,
        &["reply.submitted"],
        Config {
            webhook_max_attempts: 2,
            ..Config::default()
        },
    )
    .await;
    app.post_reply(dana("never delivered")).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = metrics(&app).await;
        if metrics.contains("webhook_deliveries_total{outcome=\"dead\"} 1") {
            assert!(metrics.contains("webhook_deliveries_total{outcome=\"failed\"} 1"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Given up for good: coming back later brings nothing.
    receiver.up.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.deliveries().is_empty());
}

#[actix_web::test]
async fn a_restart_in_the_middle_of_retries_loses_no_event() {
    let receiver = Receiver::start(false);
    let dir = tempfile::tempdir().unwrap();
    let hooks = webhooks_file(&dir, &receiver.url, &["reply.submitted"]);
    let database = format!("sqlite://{}", dir.path().join("replies.db").display());
    let args = [
        "--database-url",
        database.as_str(),
        "--webhooks-file",
        hooks.to_str().unwrap(),
    ];
    let first = ServerProcess::start(&args);
    for n in 0..2 {
        let body = dana(&format!("reply {n}")).to_string();
        let (status, answer) = first.post_json(&format!("/v1/articles/{SLUG}/replies"), &body);
        assert_eq!(status, 202, "{answer}");
    }
    first.wait_for_log("webhook failed", Duration::from_secs(10));
    first.signal("KILL");

    receiver.up.store(true, Ordering::SeqCst);
    let _second = ServerProcess::start(&args);
    // A delivery the first process was trying when it died is due again
    // once its 15 s lease ends.
    let got = receiver
        .wait_for("reply.submitted", 2, Duration::from_secs(30))
        .await;
    assert!(got.iter().all(Delivery::signed_with_the_secret));
}

#[actix_web::test]
async fn a_bad_webhooks_file_stops_the_start_saying_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.toml");
    std::fs::write(
        &path,
        format!("[[endpoint]]\nurl = \"https://hooks.example\"\nsecret = \"{SECRET}\"\nevents = [\"content.eaten\"]\n"),
    )
    .unwrap();
    let error = Application::build(&Config {
        webhooks_file: Some(path),
        ..Config::default()
    })
    .await
    .err()
    .expect("the start fails")
    .to_string();
    assert!(
        error.contains("webhooks.toml")
            && error.contains("line 4")
            && error.contains("content.eaten"),
        "{error}"
    );
}
