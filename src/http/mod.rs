//! HTTP: every rule of the protocol this service follows, and nothing of
//! what it serves. Representations and their negotiation, conditional
//! requests and ranges, cache policy and the response cache, the edge every request
//! passes, trace context, and problem details for every error. Settings come in as values;
//! this layer imports neither `config` nor `content` (a test in
//! `tests/api/architecture.rs` holds it to that).

pub mod cache;
pub mod conditional;
pub mod edge;
pub mod negotiation;
pub mod problem;
pub mod range;
pub mod representation;
pub mod response_cache;
pub mod trace;
