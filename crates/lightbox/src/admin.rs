//! Administration commands: they open the database directly (no server
//! needed, safe beside a running one) and call the same core use-cases as
//! the API. Script-facing output (uuids, tokens, JSON) goes to stdout;
//! remarks for people go to stderr.

use std::sync::Arc;

use lightbox_core::scope::{Scope, parse_scope_list};
use lightbox_core::search::SearchService;
use lightbox_core::tokens::NewServiceToken;
use lightbox_core::users::Role;
use lightbox_core::{
    Core, SystemClock, accounts, auth::AuthSettings, clock, downloads, metadata_profiles, mfa,
    tokens, users,
};

use crate::Failure;
use crate::cli::{
    AccountCommand, Command, DebugCommand, MfaCommand, ProfileCommand, SecretKeyCommand,
    SigningKeyCommand, TokenCommand, UserCommand,
};
use crate::config::{Storage, parse_duration};

pub async fn open(storage: &Storage) -> Result<Core, Failure> {
    let store = lightbox_core::Store::connect(&storage.database_url, 4).await?;
    store.migrate().await?;
    let core = Core::new(store, Arc::new(SystemClock), AuthSettings::default())
        .with_secret_keys(secret_keys(storage)?);
    lightbox_core::secrets::check_and_seal(&core)
        .await
        .map_err(Failure)?;
    Ok(core)
}

/// The key file sealing two-factor secrets, made when missing. A new one
/// beside a shared PostgreSQL database is worth a warning: every server
/// on it needs this same file.
pub fn secret_keys(storage: &Storage) -> Result<lightbox_core::secrets::SecretKeys, Failure> {
    let path = &storage.secret_key_file;
    let (keys, created) =
        lightbox_core::secrets::SecretKeys::open_or_create(path).map_err(Failure)?;
    if created && storage.database_url.starts_with("postgres") {
        eprintln!(
            "warning: made the secret key file {}; every server on this database needs this same file (copy it, or give each the same --secret-key-file)",
            path.display()
        );
    }
    Ok(keys)
}

fn fail(e: lightbox_core::CoreError) -> Failure {
    match &e.field {
        Some(field) => Failure(format!("{} ({field})", e.message)),
        None => Failure(e.message),
    }
}

pub async fn run(storage: Storage, command: Command) -> Result<(), Failure> {
    let core = open(&storage).await?;
    if let Command::Reindex = command {
        let outcome = reindex(&core, &storage).await;
        core.close().await;
        return outcome;
    }
    let outcome = dispatch(&core, command).await;
    core.close().await;
    outcome
}

/// Live serving nodes that did not confirm a revocation in time.
fn warn_unanswered(unanswered: &[String]) {
    if let Some(message) = lightbox_core::revocation::unanswered_message(unanswered) {
        eprintln!("warning: {message}");
    }
}

async fn dispatch(core: &Core, command: Command) -> Result<(), Failure> {
    match command {
        Command::Migrate => {
            eprintln!("migrations applied ({})", core.engine().name());
        }
        Command::Account(AccountCommand::Create { name, unique_id }) => {
            let account = accounts::create(core, &name, &unique_id)
                .await
                .map_err(fail)?;
            println!("{}", account.uuid);
        }
        Command::Account(AccountCommand::ApiAccess { account, state }) => {
            let (account, unanswered) =
                accounts::set_api_access_everywhere(core, &account, state == "on")
                    .await
                    .map_err(fail)?;
            eprintln!(
                "API access for {} is {}",
                account.unique_id,
                if account.api_enabled { "on" } else { "off" }
            );
            warn_unanswered(&unanswered);
        }
        Command::User(UserCommand::Create {
            login,
            name,
            password_stdin,
        }) => {
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let user = users::create(core, &login, &name, password.as_deref())
                .await
                .map_err(fail)?;
            println!("{}", user.uuid);
        }
        Command::User(UserCommand::SetPassword { user }) => {
            let password = read_password()?;
            users::set_password(core, &user, &password)
                .await
                .map_err(fail)?;
            eprintln!("password of {user} set; its sessions ended");
        }
        Command::User(UserCommand::Disable { user }) => {
            users::set_disabled(core, &user, true).await.map_err(fail)?;
            eprintln!("{user} disabled; its sessions ended");
        }
        Command::User(UserCommand::Enable { user }) => {
            users::set_disabled(core, &user, false)
                .await
                .map_err(fail)?;
            eprintln!("{user} enabled");
        }
        Command::User(UserCommand::Mfa(MfaCommand::Enable { user })) => {
            let (enrolment, codes) = mfa::enable_by_operator(core, &user).await.map_err(fail)?;
            println!("{}", enrolment.otpauth_uri);
            eprintln!("secret: {}", enrolment.secret);
            eprintln!("recovery codes (each works once; shown only now):");
            for code in codes.recovery_codes {
                eprintln!("  {code}");
            }
        }
        Command::User(UserCommand::Mfa(MfaCommand::Disable { user })) => {
            mfa::disable_by_operator(core, &user).await.map_err(fail)?;
            eprintln!("two-factor sign-in off for {user}; its sessions ended");
        }
        Command::User(UserCommand::AddToAccount {
            user,
            account,
            role,
        }) => {
            let role = Role::parse(&role)
                .ok_or_else(|| Failure("role must be admin or user".to_owned()))?;
            users::add_to_account(core, &user, &account, role)
                .await
                .map_err(fail)?;
            eprintln!("{user} is now {} of {account}", role.as_str());
        }
        Command::Token(TokenCommand::Create {
            account,
            name,
            scopes,
            expires_in,
            expires_at,
            allow_ip,
            max_request_bytes,
        }) => {
            let scopes = if scopes.trim() == "all" {
                Scope::ALL.to_vec()
            } else {
                parse_scope_list(&scopes).map_err(|bad| {
                    Failure(format!(
                        "unknown scope {bad:?}; scopes are: {}",
                        scope_names()
                    ))
                })?
            };
            let expires_at = match (expires_in, expires_at) {
                (Some(d), _) => {
                    let d = parse_duration(&d).ok_or_else(|| {
                        Failure(format!(
                            "--expires-in {d:?}: use a number and s, m, h or d, e.g. 30d"
                        ))
                    })?;
                    Some(core.now() + i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2))
                }
                (None, Some(at)) => Some(clock::parse_request_time(&at).ok_or_else(|| {
                    Failure(format!("--expires-at {at:?}: use RFC 3339 or YYYY-MM-DD"))
                })?),
                (None, None) => None,
            };
            let new = NewServiceToken {
                name,
                scopes,
                expires_at,
                allowed_ips: allow_ip,
                max_request_bytes,
            };
            let (view, secret) = tokens::create(core, &account, new).await.map_err(fail)?;
            eprintln!("token {} created; it is shown only now:", view.uuid);
            println!("{}", secret.as_str());
        }
        Command::Token(TokenCommand::List { account, json }) => {
            let list = tokens::list(core, &account).await.map_err(fail)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<36}  {:<24}  {:<22}  {:<20}  {:<20}  SCOPES",
                    "UUID", "NAME", "TOKEN", "EXPIRES", "LAST USED"
                );
                for t in list {
                    let state = if t.revoked_at.is_some() {
                        " (revoked)"
                    } else {
                        ""
                    };
                    let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                    println!(
                        "{:<36}  {:<24}  {:<22}  {:<20}  {:<20}  {}{state}",
                        t.uuid,
                        t.name,
                        t.display,
                        t.expires_at.as_deref().unwrap_or("never"),
                        t.last_used_at.as_deref().unwrap_or("never"),
                        scopes.join(",")
                    );
                }
            }
        }
        Command::Token(TokenCommand::Revoke { token_uuid }) => {
            let (view, unanswered) = tokens::revoke(core, &token_uuid).await.map_err(fail)?;
            eprintln!("token {} ({}) revoked", view.uuid, view.name);
            warn_unanswered(&unanswered);
        }
        Command::Debug(DebugCommand::SleepJob {
            account,
            millis,
            max_attempts,
        }) => {
            let account = accounts::find(core, &account).await.map_err(fail)?;
            let ctx = lightbox_core::writes::WriteContext {
                account_id: account.uuid,
                idempotency_key: lightbox_core::ids::new_public_uuid(),
                request_hash: String::new(),
            };
            let op = lightbox_core::jobs::diagnostic::enqueue(core, &ctx, millis, max_attempts)
                .await
                .map_err(fail)?;
            println!("{op}");
        }
        Command::MetadataProfile(ProfileCommand::Save {
            account,
            name,
            fields,
        }) => {
            let account = accounts::find(core, &account).await.map_err(fail)?;
            let mut object = serde_json::Map::new();
            for field in fields {
                let (key, value) = field.split_once('=').ok_or_else(|| {
                    Failure(format!(
                        "--field {field:?}: use key=value, e.g. creator=Jane Doe"
                    ))
                })?;
                let value = match (key, value) {
                    ("copyright_marked", "true") => serde_json::Value::Bool(true),
                    ("copyright_marked", "false") => serde_json::Value::Bool(false),
                    (_, v) => serde_json::Value::String(v.to_owned()),
                };
                object.insert(key.to_owned(), value);
            }
            let profile = metadata_profiles::save(core, &account.uuid, &name, object.into())
                .await
                .map_err(fail)?;
            eprintln!("metadata profile {:?} saved", profile.name);
            println!("{}", profile.uuid);
        }
        Command::MetadataProfile(ProfileCommand::List { account }) => {
            let account = accounts::find(core, &account).await.map_err(fail)?;
            let list = metadata_profiles::list(core, &account.uuid)
                .await
                .map_err(fail)?;
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Command::MetadataProfile(ProfileCommand::Delete { account, profile }) => {
            let account = accounts::find(core, &account).await.map_err(fail)?;
            metadata_profiles::delete(core, &account.uuid, &profile)
                .await
                .map_err(fail)?;
            eprintln!("metadata profile {profile:?} deleted");
        }
        Command::MetadataProfile(ProfileCommand::Default {
            account,
            user,
            profile,
        }) => {
            let account = accounts::find(core, &account).await.map_err(fail)?;
            let user_row = users::find(core, &user).await.map_err(fail)?;
            let profile = (profile != "none").then_some(profile.as_str());
            metadata_profiles::set_default(core, &account.uuid, &user_row.id, profile)
                .await
                .map_err(fail)?;
            eprintln!(
                "{user}'s default metadata profile in {}: {}",
                account.unique_id,
                profile.unwrap_or("none")
            );
        }
        Command::SigningKey(SigningKeyCommand::Rotate) => {
            let rotation = downloads::rotate_keys(core).await.map_err(fail)?;
            let retired = if rotation.retired.is_empty() {
                "none".to_owned()
            } else {
                rotation
                    .retired
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            eprintln!(
                "key {} signs new download links; the previous key still verifies; retired: {retired}",
                rotation.kid
            );
            println!("{}", rotation.kid);
        }
        Command::SecretKey(SecretKeyCommand::Rotate {
            servers_share_this_file,
        }) => {
            let running = lightbox_core::revocation::running_nodes(core)
                .await
                .map_err(fail)?;
            if core.engine() == lightbox_core::Engine::Postgres
                && !running.is_empty()
                && !servers_share_this_file
            {
                return Err(Failure(format!(
                    "{} server(s) are running on this database: {}. Each opens two-factor secrets with its own key file, and one that still holds the old file could not open them after the rotation (its users could not sign in). Either stop them, rotate, copy {} to each and start them again (a server with the old file refuses to start, naming the key), or, when they all read this same file, run again with --servers-share-this-file.",
                    running.len(),
                    running.join(", "),
                    core.secrets
                        .path()
                        .map_or("the key file".to_owned(), |p| p.display().to_string())
                )));
            }
            let rotation = lightbox_core::secrets::rotate(core)
                .await
                .map_err(Failure)?;
            eprintln!(
                "key {} now seals two-factor secrets ({} sealed again); copy the key file to every other server on this database",
                rotation.key_id, rotation.resealed
            );
            println!("{}", rotation.key_id);
        }
        Command::SigningKey(SigningKeyCommand::List { json }) => {
            let keys = downloads::list_keys(core).await.map_err(fail)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                println!("{:<6}  {:<10}  {:<20}  RETIRED", "KID", "STATE", "CREATED");
                for k in keys {
                    println!(
                        "{:<6}  {:<10}  {:<20}  {}",
                        k.kid,
                        k.state,
                        k.created_at,
                        k.retired_at.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        Command::Serve(_) | Command::Demo(_) | Command::Reindex => {
            return Err(Failure("not an administration command".to_owned()));
        }
    }
    Ok(())
}

fn scope_names() -> String {
    Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line from stdin, without its line ending (the rest of the password,
/// spaces included, is kept as typed).
fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure(format!("cannot read the password from stdin: {e}")))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Failure("no password on stdin".to_owned()));
    }
    Ok(password.to_owned())
}

/// Rebuilds the node's search index (in the data dir) from the database.
async fn reindex(core: &Core, storage: &Storage) -> Result<(), Failure> {
    let dir = storage.data_dir.join("search");
    let (search, _) = SearchService::open(&dir).map_err(|e| {
        Failure(format!(
            "cannot open the search index in {} ({}); is a server using it? Stop it first.",
            dir.display(),
            e.message
        ))
    })?;
    let started = std::time::Instant::now();
    let count = search.rebuild(core).await.map_err(fail)?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "search index rebuilt: {count} images in {secs:.1} s ({:.0} images/s)",
        count as f64 / secs.max(1e-9)
    );
    Ok(())
}
