//! Where a webhook may be sent: an `http(s)` URL whose host is a public
//! address. The transport resolves the host and connects only to the
//! addresses it checked here (no window for DNS rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use url::Url;

/// Why a target is refused (the `400`'s message, or a delivery's error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefused {
    #[error("The url must be an absolute http:// or https:// address of at most 2048 characters.")]
    Malformed,
    #[error("The url must not carry a user name or password; put a token in its path or query.")]
    Credentials,
    #[error(
        "The url leads to a loopback, private, link-local or otherwise non-public address; \
         webhooks go to public addresses only (unless the server runs with --webhook-allow-private)."
    )]
    // The address stays out of the message: it would tell a caller where
    // the server's internal names lead.
    Private(IpAddr),
    #[error("The url's host {0} does not resolve.")]
    Unresolved(String),
}

/// Parses and checks the form of a target URL.
pub fn parse(text: &str) -> Result<Url, TargetRefused> {
    if text.len() > super::URL_MAX {
        return Err(TargetRefused::Malformed);
    }
    let url = Url::parse(text).map_err(|_| TargetRefused::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(TargetRefused::Malformed);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetRefused::Credentials);
    }
    // Normalizing (punycode, percent-encoding) may lengthen it: the stored
    // form must parse again.
    if url.as_str().len() > super::URL_MAX {
        return Err(TargetRefused::Malformed);
    }
    Ok(url)
}

/// The URL's host when it is an address literal.
pub fn literal_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    }
}

/// Refuses an address no webhook may reach unless private targets are
/// allowed.
pub fn check_address(ip: IpAddr, allow_private: bool) -> Result<(), TargetRefused> {
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(TargetRefused::Private(ip))
    }
}

/// A globally reachable unicast address: not loopback, private, shared
/// (CGNAT), link-local, unique-local, unspecified, multicast, broadcast,
/// documentation or reserved — judged on the IPv4 inside an IPv4-mapped
/// or -compatible IPv6 address too; the IPv6 ranges that carry an IPv4
/// address to a gateway (NAT64, 6to4, Teredo) are refused whole.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated) fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: an IPv4 in disguise
        || s[0] == 0x2002 // 6to4: the same, through a relay
        || (s[0] == 0x2001 && s[1] == 0) // Teredo: the same, through a tunnel
        || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated) and the like
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn refuses_every_non_public_address() {
        for text in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.7",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(text)), "{text} must be refused");
            assert_eq!(
                check_address(ip(text), false),
                Err(TargetRefused::Private(ip(text)))
            );
            assert_eq!(check_address(ip(text), true), Ok(()));
        }
        for text in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(text)), "{text} is public");
        }
    }

    #[test]
    fn parses_only_http_urls_without_credentials() {
        assert!(parse("https://example.org/hook?token=a").is_ok());
        assert!(parse("http://[::1]:8080/").is_ok());
        assert_eq!(parse("ftp://example.org/"), Err(TargetRefused::Malformed));
        assert_eq!(parse("/relative"), Err(TargetRefused::Malformed));
        assert_eq!(
            parse("https://u:p@example.org/"),
            Err(TargetRefused::Credentials)
        );
        let long = format!("https://example.org/{}", "a".repeat(2048));
        assert_eq!(parse(&long), Err(TargetRefused::Malformed));
        let literal = parse("http://[::1]:8080/").map(|u| literal_address(&u));
        assert_eq!(literal, Ok(Some(ip("::1"))));
    }
}
