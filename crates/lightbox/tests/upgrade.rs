//! A library made by an earlier version opens with today's code and keeps
//! working: a dump of `lightbox demo`'s library taken before migration 0011
//! (`fixtures/library-0010/`) is loaded into an empty database, the server
//! starts on it (migrating it), and what a user stored is all there: the
//! token and the admin's password still work, the images, the set and the
//! hidden flag read as they were, and new writes and uploads land beside
//! them. Real servers, on both engines.
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
            token: "dpg_api_live_ewBKcVmOB2zyENAx7G0V1DxJjJ8w7QPNexfiTecbm5c3g0WNz",
            admin_password: "qnspm-6nfn7-74s9u-76ved-xpqrc-padmz",
            set: "01a240ad-d54b-7274-b8a6-fd28626e3c4b",
            hidden_image: "01a240ad-d863-776f-900b-4aeb4e19ad92",
        },
        Engine::Sqlite => Made {
            dump: include_str!("fixtures/library-0010/sqlite.sql"),
            secret_key: include_str!("fixtures/library-0010/sqlite.secret.key"),
            token: "dpg_api_live_mviX2PxuAujTgFcrUJOiY01xQgnpUvGSNSygvGBnFu70WXs1g",
            admin_password: "uhht9-qy7vn-rvarq-3yx9d-9ct8d-7hdkj",
            set: "01a240ae-fe41-7100-8f44-03c996ad7779",
            hidden_image: "01a240af-0121-770e-ada6-b66508d83e19",
        },
    }
}

both_engines!(
    a_library_made_before_migration_0011_opens_and_keeps_working,
    |env: Env| async move {
        let made = made(env.engine);
        env.restore(made.dump).await;
        let key_file = env.dir.join("secret.key");
        std::fs::write(&key_file, made.secret_key)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))?;
        }
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
