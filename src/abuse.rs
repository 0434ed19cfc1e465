//! Abuse limits: who a client is, and how many replies it may post.
//!
//! The client is the peer address of the connection. `X-Forwarded-For` is
//! believed only when the peer is one of `--trusted-proxies` (a load
//! balancer we run), never by default: anyone can write that header.

use std::{
    future::{Ready, ready},
    net::IpAddr,
    num::NonZeroU32,
};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
};
use ipnet::IpNet;

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

/// How many replies each client may post per minute (a burst of that many,
/// then one each 60/N seconds).
pub struct ReplyRateLimit {
    per_minute: u32,
    limiter: Option<Limiter>,
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
    /// `0` turns the limit off.
    pub fn per_minute(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute)
            .map(|n| governor::RateLimiter::keyed(Quota::per_minute(n)).with_middleware());
        Self {
            per_minute,
            limiter,
        }
    }

    /// Counts one post by `client`: its allowance, `None` when unlimited,
    /// or [`RateLimited`] with the seconds to wait.
    pub fn check(&self, client: IpAddr) -> Result<Option<Allowance>, RateLimited> {
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

    /// Forgets clients that are back to a full allowance, so the table does
    /// not grow with every address ever seen.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
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
        assert_eq!(limit.check(client).unwrap().unwrap().remaining, 1);
        assert_eq!(limit.check(client).unwrap().unwrap().remaining, 0);
        match limit.check(client) {
            Err(RateLimited { retry_after, .. }) => {
                assert!((1..=30).contains(&retry_after), "{retry_after}")
            }
            other => panic!("{other:?}"),
        }
        // Another client has its own allowance.
        assert!(limit.check(ip("198.51.100.8")).is_ok());
        assert!(
            ReplyRateLimit::per_minute(0)
                .check(client)
                .unwrap()
                .is_none()
        );
    }
}
