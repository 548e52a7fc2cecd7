//! Finding the client address behind trusted proxies.
//!
//! Without trusted proxies the address is the socket peer, and forwarding
//! headers are never read, because a client can write any of them. With
//! trusted proxies, the chain in the configured forwarding header is walked
//! from the right, since each proxy appends the address it received the
//! request from. Hops that are trusted proxies are skipped, and the first
//! address that is not a trusted proxy is the client. Entries to the left of
//! it were written by the client or by proxies nobody vouches for.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use http::{HeaderMap, Request};
use ipnet::IpNet;

use super::RateLimitConfigError;

/// The header in which the trusted proxies record the addresses they forward for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the default).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// The trusted proxies and forwarding header that locate the client address.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientAddress {
    trusted: Vec<IpNet>,
    header: ForwardedHeader,
}

impl ClientAddress {
    pub(crate) fn new(
        trusted: &[String],
        header: ForwardedHeader,
    ) -> Result<Self, RateLimitConfigError> {
        let trusted = trusted
            .iter()
            .map(|value| parse_network(value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ClientAddress { trusted, header })
    }

    /// Returns the client address of `request`, or `None` when the router
    /// was served without connect info.
    pub(crate) fn of<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())?;
        Some(self.resolve(peer, request.headers()))
    }

    fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if self.trusted.is_empty() {
            return client;
        }

        let hops = match self.header {
            ForwardedHeader::XForwardedFor => forwarded_for_chain(headers),
            ForwardedHeader::Forwarded => forwarded_chain(headers),
        };
        for hop in hops.iter().rev() {
            if !self.is_trusted(client) {
                break;
            }
            // An entry that is not an address (`unknown`, an obfuscated
            // name, garbage) ends the walk at the last proxy that was
            // trusted, because nothing to the left of it can be vouched for.
            match hop {
                Some(address) => client = address.to_canonical(),
                None => break,
            }
        }
        client
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        self.trusted
            .iter()
            .any(|network| network.contains(&address))
    }
}

/// Returns the address a client's budget is kept under. An IPv6 client is
/// keyed by its /64 network, because a single host is usually assigned a
/// whole /64 and could otherwise take a fresh budget for each of its addresses.
pub(crate) fn address_network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
    }
}

fn parse_network(value: &str) -> Result<IpNet, RateLimitConfigError> {
    let value = value.trim();
    IpNet::from_str(value)
        .map(|network| network.trunc())
        .or_else(|_| IpAddr::from_str(value).map(IpNet::from))
        .map_err(|_| RateLimitConfigError::InvalidTrustedProxy(value.to_string()))
}

/// Collects the entries of every `X-Forwarded-For` line, in order; `None` for an
/// entry that is not an IP address.
fn forwarded_for_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    header_elements(headers, "x-forwarded-for")
        .map(|entry| parse_node(entry.trim()))
        .collect()
}

/// Collects the `for=` parameter of every `Forwarded` element, in order; `None` for
/// an element without one or whose node is not an IP address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    header_elements(headers, "forwarded")
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| parse_node(node.trim().trim_matches('"')))
        })
        .collect()
}

/// Splits every line of a header on commas and checks each element on its
/// own. A non-ASCII byte that the client wrote left of the proxies' entries
/// then makes only its own element unreadable, not the whole line.
fn header_elements<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers.get_all(name).iter().flat_map(|value| {
        value
            .as_bytes()
            .split(|byte| *byte == b',')
            .map(|element| std::str::from_utf8(element).unwrap_or("\u{0}"))
    })
}

/// Parses `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = IpAddr::from_str(node) {
        return Some(address);
    }
    if let Ok(socket) = SocketAddr::from_str(node) {
        return Some(socket.ip());
    }
    let bracketed = node.strip_prefix('[')?.split(']').next()?;
    IpAddr::from_str(bracketed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().expect("a header value"));
        }
        headers
    }

    fn ip(value: &str) -> IpAddr {
        value.parse().expect("an address")
    }

    #[test]
    fn forwarding_headers_ignored_without_trusted_proxies() {
        let resolver = ClientAddress::default();
        let spoofed = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-real-ip", "203.0.113.10"),
            ("forwarded", "for=203.0.113.11"),
        ]);
        assert_eq!(resolver.resolve(ip("192.0.2.1"), &spoofed), ip("192.0.2.1"));
    }

    #[test]
    fn forwarding_headers_ignored_from_untrusted_peer() {
        let resolver = ClientAddress::new(&["10.0.0.0/8".into()], ForwardedHeader::XForwardedFor)
            .expect("valid proxies");
        let spoofed = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(resolver.resolve(ip("192.0.2.1"), &spoofed), ip("192.0.2.1"));
    }

    #[test]
    fn walk_stops_at_first_untrusted_hop() {
        let resolver = ClientAddress::new(
            &["10.0.0.0/8".into(), "192.0.2.7".into()],
            ForwardedHeader::XForwardedFor,
        )
        .expect("valid proxies");
        // The client wrote 198.51.100.1 itself; the edge proxy 192.0.2.7
        // appended the real client, and the inner proxy appended the edge.
        let chain = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.9"),
            ("x-forwarded-for", "192.0.2.7"),
        ]);
        assert_eq!(resolver.resolve(ip("10.1.2.3"), &chain), ip("203.0.113.9"));
    }

    #[test]
    fn garbage_hop_ends_walk_at_last_trusted_proxy() {
        let resolver = ClientAddress::new(&["10.0.0.0/8".into()], ForwardedHeader::XForwardedFor)
            .expect("valid proxies");
        let chain = headers(&[("x-forwarded-for", "203.0.113.9, not-an-address")]);
        assert_eq!(resolver.resolve(ip("10.1.2.3"), &chain), ip("10.1.2.3"));
    }

    #[test]
    fn non_ascii_entry_spoils_only_itself() {
        let resolver = ClientAddress::new(&["10.0.0.0/8".into()], ForwardedHeader::XForwardedFor)
            .expect("valid proxies");
        let mut chain = HeaderMap::new();
        chain.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"caf\xe9, 203.0.113.9").expect("obs-text is valid"),
        );
        assert_eq!(resolver.resolve(ip("10.1.2.3"), &chain), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_header_parsed_with_ports_and_ipv6() {
        let resolver = ClientAddress::new(&["127.0.0.1/32".into()], ForwardedHeader::Forwarded)
            .expect("valid proxies");
        let chain = headers(&[(
            "forwarded",
            "for=198.51.100.1, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=127.0.0.1:80",
        )]);
        assert_eq!(
            resolver.resolve(ip("127.0.0.1"), &chain),
            ip("2001:db8:cafe::17")
        );

        // X-Forwarded-For is not read when Forwarded is configured.
        let other = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(resolver.resolve(ip("127.0.0.1"), &other), ip("127.0.0.1"));
    }

    #[test]
    fn mapped_ipv4_peer_matches_ipv4_proxy() {
        let resolver = ClientAddress::new(&["127.0.0.1".into()], ForwardedHeader::XForwardedFor)
            .expect("valid proxies");
        let chain = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            resolver.resolve(ip("::ffff:127.0.0.1"), &chain),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn invalid_trusted_proxy_rejected() {
        let error = ClientAddress::new(&["10.0.0.0/33".into()], ForwardedHeader::XForwardedFor)
            .expect_err("an invalid block");
        assert_eq!(
            error,
            RateLimitConfigError::InvalidTrustedProxy("10.0.0.0/33".to_string())
        );
    }

    #[test]
    fn ipv6_clients_keyed_by_network() {
        assert_eq!(
            address_network(ip("2001:db8:1:2:aaaa::1")),
            address_network(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            address_network(ip("2001:db8:1:2::1")),
            address_network(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_network(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
