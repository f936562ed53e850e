//! How webhooks leave this node: an HTTP client whose resolver refuses
//! non-public addresses (unless `--webhook-allow-private`) and hands the
//! connection only the addresses it checked, so a name that resolves
//! differently a moment later (DNS rebinding) cannot lead it elsewhere.
//! No proxy, no redirect, 10 s for the whole exchange, at most 4 KiB of
//! the answer read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lightbox_core::webhooks::delivery::{BoxFuture, LOG_BYTES};
use lightbox_core::webhooks::target::{self, TargetRefused, Url};
use lightbox_core::webhooks::{Attempt, AttemptResult, WebhookTransport};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves a host name and keeps its addresses only if every one is
/// allowed (a mixed answer is refused whole).
async fn resolve(host: &str, allow_private: bool) -> Result<Vec<SocketAddr>, TargetRefused> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|_| TargetRefused::Unresolved(host.to_owned()))?
        .collect();
    if addrs.is_empty() {
        return Err(TargetRefused::Unresolved(host.to_owned()));
    }
    for addr in &addrs {
        target::check_address(addr.ip(), allow_private)?;
    }
    Ok(addrs)
}

/// reqwest's resolver: [`resolve`].
struct CheckedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve(name.as_str(), allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

pub struct HttpTransport {
    public_only: reqwest::Client,
    any: reqwest::Client,
}

fn client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver { allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("Lightbox-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

impl HttpTransport {
    pub fn new() -> reqwest::Result<Self> {
        Ok(Self {
            public_only: client(false)?,
            any: client(true)?,
        })
    }
}

/// The refusal inside a client error (our resolver's), if that was why.
fn refusal_of(error: &reqwest::Error) -> Option<TargetRefused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<TargetRefused>() {
            return Some(refused.clone());
        }
        source = e.source();
    }
    None
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "No answer within 10 seconds.".to_owned()
    } else if error.is_connect() {
        "The receiver could not be reached (connection refused or failed).".to_owned()
    } else {
        format!("The exchange failed: {error}")
    }
}

impl WebhookTransport for HttpTransport {
    fn check<'a>(
        &'a self,
        url: &'a Url,
        allow_private: bool,
    ) -> BoxFuture<'a, Result<(), TargetRefused>> {
        Box::pin(async move {
            if let Some(ip) = target::literal_address(url) {
                return target::check_address(ip, allow_private);
            }
            let host = url.host_str().unwrap_or_default();
            resolve(host, allow_private).await.map(|_| ())
        })
    }

    fn send(&self, attempt: Attempt, allow_private: bool) -> BoxFuture<'_, AttemptResult> {
        Box::pin(async move {
            let url = match target::parse(&attempt.url) {
                Ok(url) => url,
                Err(refused) => return AttemptResult::Refused(refused),
            };
            // An address literal never reaches the resolver: checked here.
            if let Some(ip) = target::literal_address(&url)
                && let Err(refused) = target::check_address(ip, allow_private)
            {
                return AttemptResult::Refused(refused);
            }
            let client = if allow_private {
                &self.any
            } else {
                &self.public_only
            };
            let mut request = client.post(url).body(attempt.body);
            for (name, value) in attempt.headers {
                request = request.header(name, value);
            }
            let mut response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    return match refusal_of(&e) {
                        Some(refused) => AttemptResult::Refused(refused),
                        None => AttemptResult::Failed(describe(&e)),
                    };
                }
            };
            let status = response.status().as_u16();
            let mut body = Vec::new();
            // The start of the answer is enough for the log; a slow or
            // endless body ends with the 10 s timeout.
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        body.extend_from_slice(&chunk);
                        if body.len() >= LOG_BYTES {
                            body.truncate(LOG_BYTES);
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if (200..300).contains(&status) {
                            // A 2xx was answered: delivered, whatever its body.
                            break;
                        }
                        return AttemptResult::Failed(describe(&e));
                    }
                }
            }
            AttemptResult::Answered {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            }
        })
    }
}
