//! Settings resolved from flags, environment and the TOML file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{ServeArgs, StorageArgs};

/// The TOML file: the same names as the long flags, with `_`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub blob_store: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub role: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub readyz_detail: Option<bool>,
    pub webhook_allow_private: Option<bool>,
    pub max_request_bytes: Option<u64>,
    pub workers: Option<usize>,
    pub job_lease_secs: Option<u64>,
    pub auth_cache_ttl_ms: Option<u64>,
    pub log_format: Option<String>,
    pub refresh_grace: Option<String>,
    pub session_max: Option<String>,
    pub hash_concurrency: Option<usize>,
    pub max_upload_bytes: Option<u64>,
    pub max_pixels: Option<u64>,
    pub processor_url: Option<String>,
    pub media_url: Option<String>,
    pub website_hosts: Option<Vec<String>>,
    pub download_link_ttl: Option<String>,
    pub archive_lifetime: Option<String>,
    pub secret_key_file: Option<PathBuf>,
}

pub fn load_file(path: Option<&Path>) -> Result<FileConfig, String> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[derive(Debug, Clone)]
pub struct Storage {
    /// Local files: the embedded database, the default blob folder, scratch space.
    pub data_dir: PathBuf,
    pub database_url: String,
    pub blobs: lightbox_media::BlobLocation,
    /// The key file sealing two-factor secrets.
    pub secret_key_file: PathBuf,
}

pub fn storage(
    args: &StorageArgs,
    file: &FileConfig,
    default_dir: &str,
) -> Result<Storage, String> {
    let data_dir = args
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(default_dir));
    let database_url = match args
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
    {
        Some(url) => url,
        None => {
            std::fs::create_dir_all(&data_dir)
                .map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
            lightbox_core::Store::sqlite_url_for_dir(&data_dir)
        }
    };
    let blobs = match args.blob_store.as_deref().or(file.blob_store.as_deref()) {
        None => lightbox_media::BlobLocation::Dir(data_dir.join("blobs")),
        Some(spec) => {
            // Credentials only from the environment (AWS's names): never in
            // a flag (ps, shell history) or a config file by accident.
            let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            let s3 = lightbox_media::S3Connection {
                endpoint: args
                    .s3_endpoint
                    .clone()
                    .or_else(|| file.s3_endpoint.clone()),
                region: args
                    .s3_region
                    .clone()
                    .or_else(|| file.s3_region.clone())
                    .or_else(|| env("AWS_REGION")),
                access_key_id: env("AWS_ACCESS_KEY_ID"),
                secret_access_key: env("AWS_SECRET_ACCESS_KEY"),
            };
            lightbox_media::BlobLocation::parse(spec, s3)
                .map_err(|e| format!("--blob-store: {e}"))?
        }
    };
    let secret_key_file = args
        .secret_key_file
        .clone()
        .or_else(|| file.secret_key_file.clone())
        .unwrap_or_else(|| data_dir.join("secret.key"));
    Ok(Storage {
        data_dir,
        database_url,
        blobs,
        secret_key_file,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    All,
    Api,
    Processor,
    Media,
    Worker,
}

#[derive(Debug, Clone)]
pub struct Serve {
    pub listen: String,
    pub public_url: Option<String>,
    pub role: Role,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub readyz_detail: bool,
    pub webhook_allow_private: bool,
    pub max_request_bytes: u64,
    pub workers: usize,
    pub job_lease: Duration,
    pub auth_cache_ttl: Duration,
    pub json_logs: bool,
    pub diagnostic_jobs: bool,
    pub refresh_grace: Duration,
    pub session_max: Duration,
    pub hash_concurrency: Option<usize>,
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    pub processor_url: Option<String>,
    pub media_url: Option<String>,
    pub website_hosts: Vec<String>,
    pub download_link_ttl: Duration,
    pub archive_lifetime: Duration,
    pub debug_clock: bool,
}

pub fn serve(args: &ServeArgs, file: &FileConfig) -> Result<Serve, String> {
    let role = match args
        .role
        .as_deref()
        .or(file.role.as_deref())
        .unwrap_or("all")
    {
        "all" => Role::All,
        "api" => Role::Api,
        "worker" => Role::Worker,
        "processor" => Role::Processor,
        "media" => Role::Media,
        other => {
            return Err(format!(
                "unknown role {other:?}: use all, api, processor, media or worker"
            ));
        }
    };
    let proxies: Vec<String> = if args.trusted_proxies.is_empty() {
        file.trusted_proxies.clone().unwrap_or_default()
    } else {
        args.trusted_proxies.clone()
    };
    let trusted_proxies = proxies
        .iter()
        .map(|p| {
            lightbox_core::tokens::parse_allowed_ip(p)
                .ok_or_else(|| format!("--trusted-proxy {p:?} is not an IP address or CIDR block"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let log_format = args
        .log_format
        .clone()
        .or_else(|| file.log_format.clone())
        .unwrap_or_else(|| "text".to_owned());
    if log_format != "text" && log_format != "json" {
        return Err(format!(
            "--log-format must be text or json, not {log_format:?}"
        ));
    }
    let workers = args.workers.or(file.workers).unwrap_or(2);
    let duration = |flag: &str, value: Option<&String>, default: Duration| match value {
        None => Ok(default),
        Some(text)
            if text
                .trim()
                .trim_end_matches(['s', 'm', 'h', 'd'])
                .parse::<u64>()
                == Ok(0) =>
        {
            Ok(Duration::ZERO)
        }
        Some(text) => parse_duration(text).ok_or_else(|| {
            format!("--{flag} {text:?} is not a duration like 10s, 15m, 12h or 90d")
        }),
    };
    let refresh_grace = duration(
        "refresh-grace",
        args.refresh_grace.as_ref().or(file.refresh_grace.as_ref()),
        Duration::ZERO,
    )?;
    let session_max = duration(
        "session-max",
        args.session_max.as_ref().or(file.session_max.as_ref()),
        Duration::from_secs(90 * 24 * 3600),
    )?;
    if session_max.is_zero() {
        return Err("--session-max must be longer than 0".to_owned());
    }
    let download_link_ttl = duration(
        "download-link-ttl",
        args.download_link_ttl
            .as_ref()
            .or(file.download_link_ttl.as_ref()),
        lightbox_core::downloads::DEFAULT_LINK_TTL,
    )?;
    if download_link_ttl.is_zero() {
        return Err("--download-link-ttl must be longer than 0".to_owned());
    }
    let archive_lifetime = duration(
        "archive-lifetime",
        args.archive_lifetime
            .as_ref()
            .or(file.archive_lifetime.as_ref()),
        lightbox_core::archives::DEFAULT_LIFETIME,
    )?;
    if archive_lifetime.is_zero() {
        return Err("--archive-lifetime must be longer than 0".to_owned());
    }
    let hash_concurrency = args.hash_concurrency.or(file.hash_concurrency);
    if hash_concurrency == Some(0) {
        return Err("--hash-concurrency must be at least 1".to_owned());
    }
    Ok(Serve {
        listen: args
            .listen
            .clone()
            .or_else(|| file.listen.clone())
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
        public_url: args.public_url.clone().or_else(|| file.public_url.clone()),
        role,
        trusted_proxies,
        readyz_detail: args.readyz_detail || file.readyz_detail.unwrap_or(false),
        webhook_allow_private: args.webhook_allow_private
            || file.webhook_allow_private.unwrap_or(false),
        max_request_bytes: args
            .max_request_bytes
            .or(file.max_request_bytes)
            .unwrap_or(10 * 1024 * 1024),
        workers,
        job_lease: Duration::from_secs(
            args.job_lease_secs
                .or(file.job_lease_secs)
                .unwrap_or(30)
                .max(1),
        ),
        auth_cache_ttl: Duration::from_millis(
            args.auth_cache_ttl_ms
                .or(file.auth_cache_ttl_ms)
                .unwrap_or(100),
        ),
        json_logs: log_format == "json",
        diagnostic_jobs: args.diagnostic_jobs,
        refresh_grace,
        session_max,
        hash_concurrency,
        max_upload_bytes: args
            .max_upload_bytes
            .or(file.max_upload_bytes)
            .unwrap_or(lightbox_core::media::DEFAULT_MAX_UPLOAD_BYTES),
        max_pixels: args
            .max_pixels
            .or(file.max_pixels)
            .unwrap_or(lightbox_core::media::DEFAULT_MAX_PIXELS),
        processor_url: args
            .processor_url
            .clone()
            .or_else(|| file.processor_url.clone()),
        media_url: args.media_url.clone().or_else(|| file.media_url.clone()),
        website_hosts: if args.website_hosts.is_empty() {
            file.website_hosts.clone().unwrap_or_default()
        } else {
            args.website_hosts.clone()
        },
        download_link_ttl,
        archive_lifetime,
        debug_clock: args.debug_clock,
    })
}

/// `30d`, `12h`, `15m`, `90s` → duration.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30d"),
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5y"), None);
    }

    #[test]
    fn file_rejects_unknown_keys() {
        assert!(toml::from_str::<FileConfig>("listen = \"127.0.0.1:1\"").is_ok());
        assert!(toml::from_str::<FileConfig>("lisen = \"127.0.0.1:1\"").is_err());
    }
}
