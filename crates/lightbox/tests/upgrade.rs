//! A library made by an earlier version opens with today's code and keeps
//! working: `lightbox demo`'s library as the last released code (6fb188a,
//! schema 0010) made and dumped it (`fixtures/library-0010/`) is loaded into
//! an empty database and migrated; every migration is applied, no table of
//! what users stored loses a row, and a server on it answers as before: the
//! token and the admin's password work, the images, the set and the hidden
//! flag read as they were, search is rebuilt, and new writes and uploads
//! land beside them. Real servers, on both engines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_media::fixtures;
use lightbox_testkit::{Engine, Env, both_engines, eventually, idempotency_key, uploaded};
use serde_json::json;

/// What the demo printed and made when each dump was taken.
struct Made {
    dump: &'static str,
    secret_key: &'static str,
    token: &'static str,
    admin_password: &'static str,
    /// "Main stage", whose first image is hidden.
    set: &'static str,
    hidden_image: &'static str,
}

fn made(engine: Engine) -> Made {
    match engine {
        Engine::Postgres => Made {
            dump: include_str!("fixtures/library-0010/postgres.sql"),
            secret_key: include_str!("fixtures/library-0010/postgres.secret.key"),
            token: "dpg_api_live_YzfL40CDAPmk9s4Iq54y3H15QSv33rZrT3I3YBPQNPJ1gkIFA",
            admin_password: "sbp24-zy97r-eapt3-qwcvv-asydk-qzdv9",
            set: "01a240f0-a007-712e-8ca5-88cac7d84a5b",
            hidden_image: "01a240f0-a30b-76ea-97e8-52e4532b0ae5",
        },
        Engine::Sqlite => Made {
            dump: include_str!("fixtures/library-0010/sqlite.sql"),
            secret_key: include_str!("fixtures/library-0010/sqlite.secret.key"),
            token: "dpg_api_live_cTU4Gqg1Zrh5OC0OIgRblaCJqxk35stKjFlsNlUfw303cx9MP",
            admin_password: "9qq3f-q2g6w-2rmvv-t5ac6-gas9z-mnydz",
            set: "01a240f0-049b-746c-a441-4d00375f116e",
            hidden_image: "01a240f0-078a-7420-b688-207bbb819963",
        },
    }
}

/// The tables that hold what users stored: none may lose a row.
const USER_TABLES: &[&str] = &[
    "accounts",
    "users",
    "memberships",
    "service_tokens",
    "images",
    "image_keywords",
    "image_exif",
    "image_versions",
    "keyword_counts",
    "sets",
    "set_images",
    "set_snapshots",
    "upload_tickets",
    "operations",
    "idempotency_keys",
    "change_log",
    "jobs",
];

/// How many rows of `table` the dump inserts (`INSERT INTO public.t …` from
/// pg_dump, `INSERT INTO "t" …` from SQLite's iterdump).
fn dumped_rows(dump: &str, table: &str) -> usize {
    let postgres = format!("INSERT INTO public.{table} ");
    let sqlite = format!("INSERT INTO \"{table}\" ");
    dump.lines()
        .filter(|line| line.starts_with(&postgres) || line.starts_with(&sqlite))
        .count()
}

/// Each image's (id, creation_date, created_at, updated_at) as the dump
/// inserts them: Unix microseconds, as schema 0010 stored every instant.
fn dumped_image_times(dump: &str) -> Vec<String> {
    let mut out: Vec<String> = dump
        .lines()
        .filter_map(|line| {
            let values = line
                .strip_prefix("INSERT INTO public.images VALUES (")
                .or_else(|| line.strip_prefix("INSERT INTO \"images\" VALUES("))?;
            // id, account_id, filename, title, description (the demo's
            // texts hold no comma), then the three instants.
            let fields: Vec<&str> = values.splitn(9, ',').map(str::trim).collect();
            let id = fields.first()?.trim_matches('\'');
            Some(format!("{id} {} {} {}", fields[5], fields[6], fields[7]))
        })
        .collect();
    out.sort();
    out
}

/// The number of the newest migration this version has for `engine`.
fn newest_migration(engine: Engine) -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../lightbox-store/migrations")
        .join(engine.name());
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .unwrap_or_else(|| panic!("no migrations in {}", dir.display()))
}

both_engines!(
    a_library_made_before_migration_0011_opens_and_keeps_working,
    |env: Env| async move {
        let made = made(env.engine);
        env.restore(made.dump).await;
        // One image with keywords becomes a video before the upgrade (the
        // demo has none), so migration 0015's copy of the flag into its
        // keyword rows is seen (0/1: schema 0010 stored flags as numbers).
        let video = env
            .sql_texts("SELECT image_id FROM image_keywords ORDER BY image_id LIMIT 1")
            .await;
        assert_eq!(video.len(), 1, "the demo's images have keywords");
        env.sql(&format!(
            "UPDATE images SET is_video = 1 WHERE id = '{}'",
            video[0]
        ))
        .await;
        let key_file = env.dir.join("secret.key");
        std::fs::write(&key_file, made.secret_key)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))?;
        }
        // Migrated by the command line first, so every row can be counted
        // before a server's housekeeping purges what expired since.
        let (code, _, err) = env.cli_raw(&["migrate"]).await;
        assert_eq!(code, 0, "{err}");
        let newest = newest_migration(env.engine);
        let applied = env
            .sql_texts("SELECT CAST(MAX(version) AS TEXT) FROM _sqlx_migrations WHERE success")
            .await;
        assert_eq!(applied, vec![newest.to_string()], "migrations applied");
        for table in USER_TABLES {
            let dumped = dumped_rows(made.dump, table);
            let stored = env
                .sql_texts(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
                .await;
            assert_eq!(stored, vec![dumped.to_string()], "rows of {table}");
        }
        // Each image's instants (creation date, upload, change) are the
        // same microsecond they were (on PostgreSQL, a BIGINT converted to a
        // timestamptz by migration 0013; the migration's edge cases, negative
        // and "never" values, are checked by the store test `migrations`).
        let micros = |column: &str| match env.engine {
            Engine::Sqlite => format!("COALESCE(CAST({column} AS TEXT), 'NULL')"),
            Engine::Postgres => format!(
                "COALESCE(CAST(CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT) AS TEXT), 'NULL')"
            ),
        };
        let mut stored_times = env
            .sql_texts(&format!(
                "SELECT id || ' ' || {} || ' ' || {} || ' ' || {} FROM images",
                micros("creation_date"),
                micros("created_at"),
                micros("updated_at")
            ))
            .await;
        stored_times.sort();
        let dumped_times = dumped_image_times(made.dump);
        assert_eq!(dumped_times.len(), 12, "{dumped_times:?}");
        assert_eq!(stored_times, dumped_times, "image instants");
        // Migration 0015: each day row starts at a UTC midnight and counts
        // the images uploaded in that day, and they add up to every image;
        // each keyword row knows whether its image is a video.
        let (midnight, next_day) = match env.engine {
            Engine::Sqlite => ("d.day % 86400000000 = 0", "d.day + 86400000000"),
            Engine::Postgres => (
                "d.day = date_trunc('day', d.day, 'UTC')",
                "d.day + INTERVAL '24 hours'",
            ),
        };
        let days = env
            .sql_texts(&format!(
                "SELECT CAST(d.images AS TEXT) || ' ' || CAST(({midnight}) AS TEXT) || ' ' || \
                 CAST((SELECT COUNT(*) FROM images i WHERE i.account_id = d.account_id \
                   AND i.created_at >= d.day AND i.created_at < {next_day}) AS TEXT) \
                 FROM image_upload_days d"
            ))
            .await;
        let mut total = 0;
        for day in &days {
            let parts: Vec<&str> = day.split(' ').collect();
            assert!(
                parts.len() == 3 && parts[0] == parts[2] && matches!(parts[1], "1" | "true"),
                "image_upload_days row (count, at midnight, images that day): {day}"
            );
            total += parts[0].parse::<i64>().unwrap_or(0);
        }
        assert_eq!(total, 12, "image_upload_days: {days:?}");
        let flags = env
            .sql_texts(
                "SELECT CAST(k.image_is_video AS TEXT) || ' ' || CAST(i.is_video AS TEXT) \
                 FROM image_keywords k JOIN images i ON i.id = k.image_id \
                 WHERE k.image_is_video OR i.is_video",
            )
            .await;
        assert!(
            !flags.is_empty() && flags.iter().all(|f| f == "1 1" || f == "true true"),
            "image_keywords.image_is_video against images.is_video: {flags:?}"
        );

        let server = env.serve(&[]).await;
        let token = made.token;

        // The token and the account it belongs to.
        let me = server.get(token, "/v1/me").await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.json()["account"]["unique_id"], "demo", "{}", me.text);

        // Every image, the set with one image hidden, the hidden flag.
        let images = server.get(token, "/v1/images?limit=100").await;
        assert_eq!(images.status, 200, "{}", images.text);
        assert_eq!(
            images.json().as_array().map(Vec::len),
            Some(12),
            "{}",
            images.text
        );
        let set = server
            .get(token, &format!("/v1/sets/{}", made.set))
            .await
            .json();
        assert_eq!(set["name"], "Main stage", "{set}");
        assert_eq!(set["image_count"], 12, "{set}");
        assert_eq!(set["live_image_count"], 11, "{set}");
        let hidden = server
            .get(token, &format!("/v1/images/{}", made.hidden_image))
            .await
            .json();
        let membership = hidden["sets"]
            .as_array()
            .and_then(|sets| sets.iter().find(|s| s["public_uuid"] == made.set))
            .unwrap_or_else(|| panic!("the hidden image is not in its set: {hidden}"));
        assert_eq!(membership["hidden"], true, "{hidden}");

        // The admin signs in with the password the demo made then.
        server
            .access_token("admin@demo.example", made.admin_password)
            .await;

        // Search is rebuilt from the database's rows (the index was not
        // kept): the three images of "The Lumens".
        let found = eventually(30, || async {
            let r = server.get(token, "/v1/images?query=Lumens").await;
            (r.status == 200 && r.json().as_array().is_some_and(|a| a.len() == 3)).then_some(r)
        })
        .await;
        assert!(found.is_some(), "search never found the demo's images");

        // Writes land beside what was there.
        let title = "Renamed after the upgrade";
        let r = server
            .patch_json(
                token,
                &format!("/v1/images/{}", made.hidden_image),
                &idempotency_key(),
                &json!({"title": title}),
            )
            .await;
        assert!(r.status == 200 || r.status == 202, "{}", r.text);
        let image = eventually(30, || async {
            let image = server
                .get(token, &format!("/v1/images/{}", made.hidden_image))
                .await
                .json();
            (image["title"] == title).then_some(image)
        })
        .await;
        assert!(image.is_some(), "the title never changed");
        let new = uploaded(&server, token, "after.jpg", fixtures::jpeg(320, 240)).await;
        let images = server.get(token, "/v1/images?limit=100").await.json();
        let ids: Vec<&str> = images
            .as_array()
            .map(|a| a.iter().filter_map(|i| i["public_uuid"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids.len(), 13, "{images}");
        assert!(ids.contains(&new.as_str()), "{images}");
        Ok(())
    }
);
