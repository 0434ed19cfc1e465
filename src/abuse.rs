//! Abuse limits: who a client is, and how many replies it may post.
//!
//! The client is the peer address of the connection. `X-Forwarded-For` is
//! believed only when the peer is one of `--trusted-proxies` (a load
//! balancer we run), never by default: anyone can write that header.
//!
//! One instance counts posts in memory. Instances that share a PostgreSQL
//! database count them there, so that together they allow the configured
//! rate, not that rate once per instance.

use std::{
    future::{Ready, ready},
    net::IpAddr,
    num::NonZeroU32,
    sync::Arc,
};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
};
use ipnet::IpNet;

use crate::replies::{Database, PostCount, ReplyError};

/// The window of the rate limit, in milliseconds.
const WINDOW_MS: i64 = 60_000;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client behind `peer`: walking `X-Forwarded-For` from the right
    /// (the hop nearest us), the first address that is not a trusted proxy.
    fn client<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(addr) => {
                    client = addr;
                    if !self.trusts(addr) {
                        break;
                    }
                }
                // A hop we cannot read ends what we can believe.
                Err(_) => break,
            }
        }
        client
    }
}

/// Parses a `--trusted-proxies` entry: an address or a network (`10.0.0.0/8`).
pub fn parse_proxy(raw: &str) -> Result<IpNet, String> {
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{raw}` is not an IP address or network (e.g. 10.0.0.0/8)"))
}

/// The address of the client that sent the request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequest for ClientAddr {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |addr| addr.ip());
        let client = match req.app_data::<web::Data<TrustedProxies>>() {
            Some(proxies) => proxies.client(
                peer,
                req.headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|value| value.to_str().ok()),
            ),
            None => peer,
        };
        ready(Ok(Self(client)))
    }
}

type Limiter = DefaultKeyedRateLimiter<IpAddr, StateInformationMiddleware>;

/// How many replies each client may post per minute. In memory: a burst of
/// that many, then one each 60/N seconds. Shared: a sliding window over
/// the database's per-minute counts (the last minute's count weighed by how
/// much of it the window still covers, plus this minute's).
pub struct ReplyRateLimit {
    per_minute: u32,
    limiter: Option<Limiter>,
    shared: Option<Arc<Database>>,
}

/// Why a post may not be made now.
#[derive(Debug, thiserror::Error)]
pub enum NotAllowed {
    /// The client has posted all it may for now.
    #[error(transparent)]
    Limited(#[from] RateLimited),
    /// The shared count could not be read or written.
    #[error(transparent)]
    Database(#[from] ReplyError),
}

/// A client that has posted all it may for now. `error.rs` makes it a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests: try again in {retry_after} second(s)")]
pub struct RateLimited {
    /// Seconds until the client may post again.
    pub retry_after: u64,
    /// Posts a client may make per minute.
    pub limit: u32,
}

/// Where a client stands after a post that was allowed.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub limit: u32,
    pub remaining: u32,
}

impl ReplyRateLimit {
    /// Counted in memory; `0` turns the limit off.
    pub fn per_minute(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute)
            .map(|n| governor::RateLimiter::keyed(Quota::per_minute(n)).with_middleware());
        Self {
            per_minute,
            limiter,
            shared: None,
        }
    }

    /// Counted in `db`, shared by every instance on it; `0` turns it off.
    pub fn shared(per_minute: u32, db: Arc<Database>) -> Self {
        Self {
            per_minute,
            limiter: None,
            shared: (per_minute > 0).then_some(db),
        }
    }

    /// Counts one post by `client`: its allowance, `None` when unlimited,
    /// or [`RateLimited`] with the seconds to wait.
    pub async fn check(&self, client: IpAddr) -> Result<Option<Allowance>, NotAllowed> {
        if let Some(db) = &self.shared {
            let key = client.to_string();
            let count = db.count_post(&key, WINDOW_MS).await?;
            return match sliding(self.per_minute, &count) {
                Ok(remaining) => Ok(Some(Allowance {
                    limit: self.per_minute,
                    remaining,
                })),
                Err(retry_after) => {
                    db.uncount_post(&key, &count).await?;
                    Err(RateLimited {
                        retry_after,
                        limit: self.per_minute,
                    }
                    .into())
                }
            };
        }
        Ok(self.check_here(client)?)
    }

    fn check_here(&self, client: IpAddr) -> Result<Option<Allowance>, RateLimited> {
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        match limiter.check_key(&client) {
            Ok(state) => Ok(Some(Allowance {
                limit: self.per_minute,
                remaining: state.remaining_burst_capacity(),
            })),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(RateLimited {
                    retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    limit: self.per_minute,
                })
            }
        }
    }

    /// Forgets clients that are back to a full allowance (in the database:
    /// counts older than the last window), so that no table grows with every
    /// address ever seen, nor keeps one longer than the limit needs.
    pub async fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(db) = &self.shared
            && let Err(error) = db.forget_post_counts(WINDOW_MS).await
        {
            tracing::warn!("old reply rate counts not deleted: {error}");
        }
    }
}

/// The sliding window's estimate of a client's posts over the last minute,
/// after `count`: the last minute's posts weighed by the part of it the
/// window still covers, plus this minute's.
fn estimate(previous: u32, current: u32, elapsed_ms: i64) -> f64 {
    let left = (WINDOW_MS - elapsed_ms).clamp(0, WINDOW_MS) as f64 / WINDOW_MS as f64;
    f64::from(previous) * left + f64::from(current)
}

/// Whether the post just counted in `count` is allowed under `limit`: the
/// posts still allowed after it, or the seconds to wait until one more is.
fn sliding(limit: u32, count: &PostCount) -> Result<u32, u64> {
    let now = estimate(count.previous, count.current, count.elapsed_ms);
    if now <= f64::from(limit) {
        return Ok((f64::from(limit) - now).floor() as u32);
    }
    // Without the refused post, when would one more fit? Second by second,
    // into the next window if need be (where this one becomes the last).
    let stored = count.current.saturating_sub(1);
    for wait in 1..=2 * WINDOW_MS / 1000 {
        let at = count.elapsed_ms + wait * 1000;
        let then = if at < WINDOW_MS {
            estimate(count.previous, stored + 1, at)
        } else {
            estimate(stored, 1, at - WINDOW_MS)
        };
        if then <= f64::from(limit) {
            return Err(wait as u64);
        }
    }
    Err((2 * WINDOW_MS / 1000) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies(list.iter().map(|p| parse_proxy(p).unwrap()).collect())
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), ["1.2.3.4"].into_iter()),
            ip("203.0.113.9")
        );
        let lb = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            lb.client(ip("203.0.113.9"), ["1.2.3.4"].into_iter()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let lb = proxies(&["10.0.0.0/8", "192.0.2.1"]);
        // The client forged the first entry; the proxies appended the rest.
        let forwarded = ["6.6.6.6, 198.51.100.7", "192.0.2.1"];
        assert_eq!(
            lb.client(ip("10.1.2.3"), forwarded.into_iter()),
            ip("198.51.100.7")
        );
        assert_eq!(lb.client(ip("10.1.2.3"), [].into_iter()), ip("10.1.2.3"));
        assert_eq!(
            lb.client(ip("10.1.2.3"), ["junk"].into_iter()),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn proxies_are_addresses_or_networks() {
        assert!(parse_proxy("10.0.0.0/8").is_ok());
        assert!(parse_proxy("::1").is_ok());
        assert!(parse_proxy("proxy.local").is_err());
    }

    #[test]
    fn a_client_over_its_allowance_is_told_when_to_retry() {
        let limit = ReplyRateLimit::per_minute(2);
        let client = ip("198.51.100.7");
        assert_eq!(limit.check_here(client).unwrap().unwrap().remaining, 1);
        assert_eq!(limit.check_here(client).unwrap().unwrap().remaining, 0);
        match limit.check_here(client) {
            Err(RateLimited { retry_after, .. }) => {
                assert!((1..=30).contains(&retry_after), "{retry_after}")
            }
            other => panic!("{other:?}"),
        }
        // Another client has its own allowance.
        assert!(limit.check_here(ip("198.51.100.8")).is_ok());
        assert!(
            ReplyRateLimit::per_minute(0)
                .check_here(client)
                .unwrap()
                .is_none()
        );
    }

    fn count(previous: u32, current: u32, elapsed_s: i64) -> PostCount {
        PostCount {
            current,
            previous,
            elapsed_ms: elapsed_s * 1000,
            window_start: 0,
        }
    }

    #[test]
    fn the_shared_window_allows_the_limit_and_says_when_to_retry() {
        // A fresh client: five posts allowed, the sixth refused.
        assert_eq!(sliding(5, &count(0, 1, 10)), Ok(4));
        assert_eq!(sliding(5, &count(0, 5, 10)), Ok(0));
        // Refused with this window full: it waits for the next window, and
        // then until enough of this one has slid out.
        let wait = sliding(5, &count(0, 6, 10)).unwrap_err();
        assert!((50..=63).contains(&wait), "{wait}");
        // Last minute's posts weigh by what the window still covers: half a
        // minute in, five posts then count 2.5; with two now, 4.5 in all.
        assert_eq!(sliding(5, &count(5, 1, 30)), Ok(1));
        assert_eq!(sliding(5, &count(5, 2, 30)), Ok(0));
        // A third is refused until a tenth of the last minute (6 s) has
        // slid out.
        assert_eq!(sliding(5, &count(5, 3, 30)), Err(6));
    }
}
