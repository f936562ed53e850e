//! The command line of `../shared/spec/cli.md`. Every flag also reads an
//! environment variable (`--database-url` ↔ `LIGHTBOX_DATABASE_URL`) and a
//! key of the optional TOML file (`--config`); a flag beats the variable,
//! which beats the file, which beats the built-in default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "lightbox",
    version,
    about = "Lightbox: a self-hosted photo-library server."
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives; taken by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct StorageArgs {
    /// TOML file with any of the settings below (keys as the long flags, with `_`).
    #[arg(long, global = true, env = "LIGHTBOX_CONFIG")]
    pub config: Option<PathBuf>,
    /// Folder for the embedded database and blobs [default: ./lightbox-data].
    #[arg(long, global = true, env = "LIGHTBOX_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…` [default: SQLite under --data-dir].
    #[arg(
        long,
        global = true,
        env = "LIGHTBOX_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// `file://…` or `s3://bucket/prefix` [default: a folder under --data-dir].
    #[arg(long, global = true, env = "LIGHTBOX_BLOB_STORE")]
    pub blob_store: Option<String>,
    /// S3-compatible endpoint, e.g. http://127.0.0.1:9000 [default: AWS].
    /// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    #[arg(long, global = true, env = "LIGHTBOX_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region [default: us-east-1].
    #[arg(long, global = true, env = "LIGHTBOX_S3_REGION")]
    pub s3_region: Option<String>,
    /// Key file sealing two-factor secrets (made at first start when missing;
    /// every server on the database needs the same) [default: <data-dir>/secret.key].
    #[arg(long, global = true, env = "LIGHTBOX_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run the server on a demo data dir, seeded with an account (API on) and sets;
    /// prints the base URL and an all-scope service token on stdout.
    Demo(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Users and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// Service tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Metadata profiles: reusable IPTC fields; a member's default fills its uploads.
    #[command(subcommand, name = "metadata-profile")]
    MetadataProfile(ProfileCommand),
    /// Keys that sign download links (shared by every server on the database).
    #[command(subcommand, name = "signing-key")]
    SigningKey(SigningKeyCommand),
    /// The key file that seals two-factor secrets in the database.
    #[command(subcommand, name = "secret-key")]
    SecretKey(SecretKeyCommand),
    /// Rebuild this node's search index from the database (run it with the
    /// node's server stopped; a server also rebuilds a missing or damaged index itself).
    Reindex,
    /// Operator diagnostics.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long, env = "LIGHTBOX_LISTEN")]
    pub listen: Option<String>,
    /// Base URL clients use to reach this server [default: http://<listen>].
    #[arg(long, env = "LIGHTBOX_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// all | api | worker [default: all].
    #[arg(long, env = "LIGHTBOX_ROLE")]
    pub role: Option<String>,
    /// Proxy address or CIDR whose X-Forwarded-For is believed (repeatable; env: comma list).
    #[arg(
        long = "trusted-proxy",
        env = "LIGHTBOX_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Largest request body the API accepts, in bytes [default: 10485760].
    #[arg(long, env = "LIGHTBOX_MAX_REQUEST_BYTES")]
    pub max_request_bytes: Option<u64>,
    /// Background job workers [default: 2].
    #[arg(long, env = "LIGHTBOX_WORKERS")]
    pub workers: Option<usize>,
    /// Seconds without a heartbeat before a running job is taken back [default: 30].
    #[arg(long, env = "LIGHTBOX_JOB_LEASE_SECS")]
    pub job_lease_secs: Option<u64>,
    /// How long a checked token is trusted before it is re-read, in ms; 0 reads every time [default: 100].
    #[arg(long, env = "LIGHTBOX_AUTH_CACHE_TTL_MS")]
    pub auth_cache_ttl_ms: Option<u64>,
    /// Log format: text | json [default: text].
    #[arg(long, env = "LIGHTBOX_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Window in which a client re-sending the refresh token it just spent
    /// gets the same successor back instead of losing its session, e.g. 10s
    /// [default: 0s = strict].
    #[arg(long, env = "LIGHTBOX_REFRESH_GRACE")]
    pub refresh_grace: Option<String>,
    /// Longest a device session lives, however often it refreshes [default: 90d].
    #[arg(long, env = "LIGHTBOX_SESSION_MAX")]
    pub session_max: Option<String>,
    /// Password hashes computed at once [default: CPUs - 1, at least 1].
    #[arg(long, env = "LIGHTBOX_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// Largest upload accepted, in bytes [default: 2147483648 = 2 GiB].
    #[arg(long, env = "LIGHTBOX_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<u64>,
    /// Largest image accepted, in pixels (width × height); bigger files are
    /// refused before decoding [default: 200000000].
    #[arg(long, env = "LIGHTBOX_MAX_PIXELS")]
    pub max_pixels: Option<u64>,
    /// Base URL of the image processor, for upload tickets' `upload_url`
    /// [default: the public URL].
    #[arg(long, env = "LIGHTBOX_PROCESSOR_URL")]
    pub processor_url: Option<String>,
    /// Base URL public versions are served under [default: the public URL].
    #[arg(long, env = "LIGHTBOX_MEDIA_URL")]
    pub media_url: Option<String>,
    /// A host name websites may be served at, when a website names it
    /// (repeatable; `*` any; env: comma list) [default: none: websites are
    /// served under <public URL>/w/<slug>/ only].
    #[arg(
        long = "website-host",
        env = "LIGHTBOX_WEBSITE_HOSTS",
        value_delimiter = ','
    )]
    pub website_hosts: Vec<String>,
    /// How long a signed download link lasts, e.g. 90s, 10m, 1h [default: 10m].
    #[arg(long, env = "LIGHTBOX_DOWNLOAD_LINK_TTL")]
    pub download_link_ttl: Option<String>,
    /// How long a ZIP archive is kept, e.g. 12h, 7d [default: 7d].
    #[arg(long, env = "LIGHTBOX_ARCHIVE_LIFETIME")]
    pub archive_lifetime: Option<String>,
    /// Let webhooks go to loopback, private, link-local and unique-local
    /// addresses (tests, and receivers inside the same network).
    #[arg(long, env = "LIGHTBOX_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Let `/readyz` tell a caller on this machine that came through no proxy
    /// why a part is down (address included, never a password).
    #[arg(long, env = "LIGHTBOX_READYZ_DETAIL")]
    pub readyz_detail: bool,
    /// Register the diagnostic sleep job (for checking crash recovery).
    #[arg(long, env = "LIGHTBOX_DIAGNOSTIC_JOBS", hide = true)]
    pub diagnostic_jobs: bool,
    /// Tests only: a clock that stands still until moved through
    /// `POST /_debug/clock` (never in production).
    #[arg(long, hide = true)]
    pub debug_clock: bool,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account; prints its uuid.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        unique_id: String,
    },
    /// Switch API access on or off.
    ApiAccess {
        /// Account uuid or unique id.
        account: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints its uuid.
    Create {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// Read the password from stdin (one line). Without it the user
        /// cannot sign in until `user set-password`.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (read from stdin); ends the user's sessions.
    SetPassword {
        /// User uuid or login.
        user: String,
    },
    /// Disable a user: sign-in refused, every session ended at once.
    Disable {
        /// User uuid or login.
        user: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// User uuid or login.
        user: String,
    },
    /// Two-factor sign-in (TOTP).
    #[command(subcommand)]
    Mfa(MfaCommand),
    /// Add a user to an account (or change its role there).
    AddToAccount {
        /// User uuid or login.
        user: String,
        /// Account uuid or unique id.
        account: String,
        #[arg(long, value_parser = ["admin", "user"])]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Switch two-factor on with a new secret: prints the otpauth:// URI on
    /// stdout; the secret and ten recovery codes on stderr. Ends the user's
    /// sessions.
    Enable {
        /// User uuid or login.
        user: String,
    },
    /// Switch two-factor off (a user who lost their authenticator).
    Disable {
        /// User uuid or login.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Create a profile, or replace the fields of the one with this name; prints its uuid.
    Save {
        /// Account uuid or unique id.
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        /// An IPTC field, `key=value` (repeatable): creator, copyright_notice,
        /// copyright_marked=true|false, credit_line, city, country_code, …
        #[arg(long = "field")]
        fields: Vec<String>,
    },
    /// List an account's profiles as JSON.
    List {
        #[arg(long)]
        account: String,
    },
    /// Delete a profile (by name or uuid).
    Delete {
        #[arg(long)]
        account: String,
        profile: String,
    },
    /// Make a profile a member's default (`--profile none` removes it).
    Default {
        #[arg(long)]
        account: String,
        /// User uuid or login.
        #[arg(long)]
        user: String,
        /// Profile name or uuid, or `none`.
        #[arg(long)]
        profile: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a service token; prints the token (shown only this once).
    Create {
        /// Account uuid or unique id.
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        /// Comma list of scopes, or `all`.
        #[arg(long)]
        scopes: String,
        /// Lifetime like 90s, 15m, 12h, 30d.
        #[arg(long, conflicts_with = "expires_at")]
        expires_in: Option<String>,
        /// Expiry as RFC 3339 or YYYY-MM-DD.
        #[arg(long)]
        expires_at: Option<String>,
        /// IP address or CIDR block the token may be used from (repeatable).
        #[arg(long = "allow-ip")]
        allow_ip: Vec<String>,
        /// Largest request body this token may send, in bytes.
        #[arg(long)]
        max_request_bytes: Option<u64>,
    },
    /// List an account's tokens.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its uuid.
    Revoke { token_uuid: String },
}

#[derive(Debug, Subcommand)]
pub enum SecretKeyCommand {
    /// Seal every stored two-factor secret under a new key: the new key is
    /// added to the key file, everything is sealed again, then the file keeps
    /// the new key only. Prints the new key id. On PostgreSQL with servers
    /// running it refuses (naming them) unless they all read this same file:
    /// a server still holding the old file could open no second factor.
    Rotate {
        /// Every running server reads this same key file (one machine, or a
        /// shared volume), so they follow the rotation at once.
        #[arg(long)]
        servers_share_this_file: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// Make a new key the signer of download links; the previous one keeps
    /// verifying the links it signed, and older keys are retired (their links
    /// are refused). Running servers pick it up within a second. Prints the
    /// new key id.
    Rotate,
    /// List the keys: id, state (signing, verifying, retired), dates.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Queue a job that sleeps; prints its operation id.
    SleepJob {
        #[arg(long)]
        account: String,
        #[arg(long)]
        millis: u64,
        #[arg(long, default_value_t = 3)]
        max_attempts: i64,
    },
}
