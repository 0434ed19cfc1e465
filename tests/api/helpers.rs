//! `spawn_app()`: the one way tests start the server.

use actix_web::{http::StatusCode, web::Bytes};
use relief_api::{config::Config, startup::Application};
use serde_json::Value;

pub const SLUG: &str = "deep-tissue-massage-for-back-pain";

pub struct TestApp {
    pub address: String,
    client: awc::Client,
}

/// What a client received.
pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header is text"))
    }

    /// Asserts the reply is a problem+json with `status`, and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let problem = self.json();
        for field in ["type", "title", "detail", "instance"] {
            assert!(
                problem[field].is_string(),
                "problem lacks `{field}`: {problem}"
            );
        }
        assert_eq!(problem["status"], status);
        problem
    }
}

/// Starts the app on the embedded content.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::default()).await
}

/// Starts the app with `config` (its port is replaced by a free one).
pub async fn spawn_app_with(config: Config) -> TestApp {
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    let app = Application::build(&config).expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: awc::Client::builder().disable_redirects().finish(),
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path).await
    }

    pub async fn request(&self, method: &str, path: &str) -> Reply {
        self.request_with(method, path, &[]).await
    }

    /// Sends `method path` with extra `headers`; repeated names are sent repeated.
    pub async fn request_with(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let method = method.parse().expect("a method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        for (name, value) in headers {
            request = request.append_header((*name, *value));
        }
        let mut response = request.send().await.expect("the server answers");
        let body = response.body().limit(10 << 20).await.expect("a whole body");
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body,
        }
    }

    /// GETs `path`, asserts a 200 JSON answer and returns it.
    pub async fn get_json(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.header("content-type"), Some("application/json"));
        reply.json()
    }
}
