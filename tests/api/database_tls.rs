//! TLS to PostgreSQL: the URL's `sslmode` is honoured, a private CA is
//! given with `--database-ca-file`, and a certificate that does not verify
//! stops the start with a message naming the mode and the reason. Run
//! against the server at `RELIEF_TEST_DATABASE_URL`, which must have
//! `ssl = on` (Debian's cluster does, with its self-signed certificate).

use relief_api::{config::Config, startup::Application};
use serde_json::json;
use sqlx::Connection as _;

use crate::helpers::{Backend, TestDatabase, skipped_without_postgres, spawn_app_on};

/// A database of the test's own, and the server's certificate file (which,
/// self-signed, is its own CA); `None` when the test cannot run here.
async fn database_with_tls() -> Option<(TestDatabase, String)> {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        skipped_without_postgres();
        return None;
    };
    let mut admin = sqlx::PgConnection::connect(&database.url).await.unwrap();
    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    if ssl != "on" {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the PostgreSQL server has ssl = off: the TLS tests cannot run"
        );
        eprintln!("skipped: the PostgreSQL server at RELIEF_TEST_DATABASE_URL has ssl = off");
        return None;
    }
    let cert: String = sqlx::query_scalar("SHOW ssl_cert_file")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    Some((database, cert))
}

fn with_ssl(url: &str, mode: &str) -> String {
    format!("{url}?sslmode={mode}")
}

const UNRELATED_CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tls/unrelated-ca.pem"
);

/// What the start said when it refused.
async fn start_refused(config: Config) -> String {
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    match Application::build(&config).await {
        Ok(_) => panic!("the server started with {}", config.database_url),
        Err(error) => error.to_string(),
    }
}

/// Starts the app on `database` with `config`, posts a reply, and checks
/// that the server saw the app's connections encrypted.
async fn a_reply_is_stored_over_tls(config: Config, database: TestDatabase) {
    let admin_url = database.url.clone();
    let name = admin_url.rsplit('/').next().unwrap().to_owned();
    let app = spawn_app_on(database, config).await;
    let id = app
        .post_reply(json!({"author_name": "Ana", "body": "Stored over TLS."}))
        .await;
    assert!(id > 0);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let (encrypted, plain): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(
        encrypted > 0 && plain == 0,
        "{encrypted} encrypted, {plain} plain"
    );
}

#[actix_web::test]
async fn require_encrypts_without_checking_the_certificate() {
    let Some((database, _)) = database_with_tls().await else {
        return;
    };
    let config = Config {
        database_url: with_ssl(&database.url, "require"),
        ..Config::default()
    };
    a_reply_is_stored_over_tls(config, database).await;
}

#[actix_web::test]
async fn verify_ca_with_the_servers_ca_connects() {
    let Some((database, cert)) = database_with_tls().await else {
        return;
    };
    let config = Config {
        database_url: with_ssl(&database.url, "verify-ca"),
        database_ca_file: Some(cert.into()),
        ..Config::default()
    };
    a_reply_is_stored_over_tls(config, database).await;
}

#[actix_web::test]
async fn sslrootcert_in_the_url_is_the_same_as_the_flag() {
    let Some((database, cert)) = database_with_tls().await else {
        return;
    };
    let config = Config {
        database_url: format!(
            "{}&sslrootcert={cert}",
            with_ssl(&database.url, "verify-ca")
        ),
        ..Config::default()
    };
    a_reply_is_stored_over_tls(config, database).await;
}

#[actix_web::test]
async fn verify_ca_and_verify_full_with_the_wrong_ca_stop_the_start() {
    let Some((database, _)) = database_with_tls().await else {
        return;
    };
    for mode in ["verify-ca", "verify-full"] {
        let said = start_refused(Config {
            database_url: with_ssl(&database.url, mode),
            database_ca_file: Some(UNRELATED_CA.into()),
            ..Config::default()
        })
        .await;
        assert!(
            said.contains(&format!("sslmode={mode} failed")) && said.contains("UnknownIssuer"),
            "{said}"
        );
        assert!(
            !said.contains(":postgres@"),
            "the password is shown: {said}"
        );
    }
}

#[actix_web::test]
async fn verify_full_checks_the_name_that_verify_ca_does_not() {
    let Some((database, cert)) = database_with_tls().await else {
        return;
    };
    // The URL names the server by address; its certificate names a host.
    assert!(database.url.contains("127.0.0.1"), "{}", database.url);
    let said = start_refused(Config {
        database_url: with_ssl(&database.url, "verify-full"),
        database_ca_file: Some(cert.into()),
        ..Config::default()
    })
    .await;
    assert!(
        said.contains("sslmode=verify-full failed") && said.contains("not valid for name"),
        "{said}"
    );
}

#[actix_web::test]
async fn a_ca_file_that_is_not_there_stops_the_start_with_its_path() {
    let Some((database, _)) = database_with_tls().await else {
        return;
    };
    let said = start_refused(Config {
        database_url: with_ssl(&database.url, "verify-full"),
        database_ca_file: Some("/nonexistent/ca.pem".into()),
        ..Config::default()
    })
    .await;
    assert!(
        said.contains("--database-ca-file /nonexistent/ca.pem"),
        "{said}"
    );
}
