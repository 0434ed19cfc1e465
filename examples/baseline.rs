//! The benchmark's ceiling: a bare actix-web server, no middleware, answering
//! every GET with the very same article bytes relief-api serves, from one fixed
//! `Bytes`. Whatever relief-api does beyond this costs throughput; `bench/`
//! reports each route as a ratio to this server, measured in the same run.
//!
//! Run: `cargo run --release --example baseline -- 127.0.0.1:8091 [WORKERS]`

use actix_web::{App, HttpResponse, HttpServer, http::header::ContentType, web};
use relief_api::content::ContentSource;
use relief_api::store::Store;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:8091".into());
    let workers: usize = args
        .next()
        .map_or(2, |w| w.parse().expect("WORKERS is a number"));

    let store = Store::load(&ContentSource::Embedded).expect("the embedded content is valid");
    let body = store
        .get("deep-tissue-massage-for-back-pain", &Default::default())
        .expect("the source article")
        .whole
        .body()
        .clone();

    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .content_type(ContentType::json())
                    .body(body)
            }
        }))
    })
    .workers(workers)
    .bind(bind)?
    .run()
    .await
}
