//! Sets over real HTTP: the tree, fields and fixed choices, re-parenting
//! and cycles, sibling reorder, membership, image order (permutation and
//! move), publishing with an embargo that lifts at its instant (counts,
//! lists and the search index agreeing), snapshots and restore, concurrent
//! reorders, and 10,000-image changes run as jobs — on SQLite with the
//! folder blob store and on PostgreSQL with a real S3-compatible server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lightbox_media::fixtures;
use lightbox_testkit::{
    Env, Server, both_engines, both_setups, finished_operation as finished, idempotency_key,
};
use serde_json::{Value, json};

/// Uploads so far: each gets its own picture size.
static SIZES: AtomicU64 = AtomicU64::new(0);

async fn start(env: &Env) -> (Server, String) {
    let account = env.account("sets").await;
    let token = env
        .token(&account, "api.images.read,api.sets.write,api.upload", &[])
        .await;
    (env.serve(&[]).await, token)
}

async fn upload(server: &Server, token: &str, name: &str) -> String {
    // A new size each time: byte-identical uploads would be duplicates.
    let n = SIZES.fetch_add(1, Ordering::SeqCst) as u32;
    server
        .upload(token, name, fixtures::jpeg(40 + n % 400, 30 + n / 400))
        .await
}

async fn create(server: &Server, token: &str, body: Value) -> String {
    let op = server.write_ok("POST", token, "/v1/sets", body).await;
    op["set_public_uuid"].as_str().unwrap().to_owned()
}

async fn set(server: &Server, token: &str, id: &str) -> Value {
    let r = server.get(token, &format!("/v1/sets/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// Uuids of a list answer, in order.
fn uuids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|i| i["public_uuid"].as_str().unwrap().to_owned())
        .collect()
}

async fn members(server: &Server, token: &str, id: &str, query: &str) -> Vec<String> {
    let r = server
        .get(token, &format!("/v1/sets/{id}/images?limit=200{query}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    uuids(&r.json())
}

/// The festival tree: Festival (a blue folder) with Saturday and then
/// Sunday (a press set) under it, and Press after it at the top level.
struct Festival {
    festival: String,
    sat: String,
    sun: String,
    press: String,
}

async fn festival_tree(server: &Server, token: &str) -> Festival {
    let festival = create(
        server,
        token,
        json!({"name": "Festival", "colour": "blue", "type": "folder"}),
    )
    .await;
    let sat = create(
        server,
        token,
        json!({"name": "Saturday", "parent_public_uuid": festival}),
    )
    .await;
    let sun = create(
        server,
        token,
        json!({"name": "Sunday", "parent_public_uuid": festival, "type": "press"}),
    )
    .await;
    let press = create(server, token, json!({"name": "Press"})).await;
    Festival {
        festival,
        sat,
        sun,
        press,
    }
}

/// The festival tree rearranged: Press before Festival at the top level,
/// and Saturday moved under Press with Late under it. Returns Late too.
async fn rearranged_festival_tree(server: &Server, token: &str) -> (Festival, String) {
    let tree = festival_tree(server, token).await;
    server
        .write_ok(
            "PATCH",
            token,
            "/v1/sets/reorder",
            json!({"parent_public_uuid": null, "set_public_uuids": [tree.press, tree.festival]}),
        )
        .await;
    let late = create(
        server,
        token,
        json!({"name": "Late", "parent_public_uuid": tree.sat}),
    )
    .await;
    server
        .write_ok(
            "PATCH",
            token,
            &format!("/v1/sets/{}", tree.sat),
            json!({"parent_public_uuid": tree.press}),
        )
        .await;
    (tree, late)
}

both_setups!(
    fixed_choices_refuse_anything_else_and_save_nothing,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let Festival {
            festival, press, ..
        } = festival_tree(&server, &token).await;

        // Fixed choices: anything else is refused and nothing is saved.
        server
            .write_refused(
                "POST",
                &token,
                "/v1/sets",
                json!({"name": "X", "colour": "teal"}),
                (400, "validation"),
                Some("colour"),
            )
            .await;
        server
            .write_refused(
                "POST",
                &token,
                "/v1/sets",
                json!({"name": "X", "type": "album"}),
                (400, "validation"),
                Some("type"),
            )
            .await;
        let top = server.get(&token, "/v1/sets").await.json();
        assert_eq!(uuids(&top), vec![festival.clone(), press.clone()]);
        Ok(())
    }
);

both_setups!(a_set_shows_its_fields_and_children, |env: Env| async move {
    let (server, token) = start(&env).await;
    let Festival {
        festival, sat, sun, ..
    } = festival_tree(&server, &token).await;

    let f = set(&server, &token, &festival).await;
    assert_eq!(
        (f["colour"].as_str(), f["type"].as_str()),
        (Some("blue"), Some("folder"))
    );
    assert_eq!(f["child_count"], 2);
    assert_eq!(f["website"], Value::Null);
    let kids = server
        .get(&token, &format!("/v1/sets?parent_public_uuid={festival}"))
        .await
        .json();
    assert_eq!(uuids(&kids), vec![sat.clone(), sun.clone()]);
    Ok(())
});

both_setups!(
    siblings_reorder_by_a_full_permutation,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let Festival {
            festival,
            sat,
            sun,
            press,
        } = festival_tree(&server, &token).await;

        // Sibling reorder: a full permutation only.
        server
            .write_ok(
                "PATCH",
                &token,
                "/v1/sets/reorder",
                json!({"parent_public_uuid": festival, "set_public_uuids": [sun, sat]}),
            )
            .await;
        let kids = server
            .get(&token, &format!("/v1/sets?parent_public_uuid={festival}"))
            .await
            .json();
        assert_eq!(uuids(&kids), vec![sun.clone(), sat.clone()]);
        server
            .write_ok(
                "PATCH",
                &token,
                "/v1/sets/reorder",
                json!({"parent_public_uuid": null, "set_public_uuids": [press, festival]}),
            )
            .await;
        assert_eq!(
            uuids(&server.get(&token, "/v1/sets").await.json()),
            vec![press.clone(), festival.clone()]
        );
        Ok(())
    }
);

both_setups!(
    a_sibling_reorder_must_name_every_sibling_and_only_them,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let Festival {
            festival,
            sat,
            sun,
            press,
        } = festival_tree(&server, &token).await;

        // Sibling reorder: a full permutation only.
        server
            .write_refused(
                "PATCH",
                &token,
                "/v1/sets/reorder",
                json!({"parent_public_uuid": festival, "set_public_uuids": [sun]}),
                (400, "validation"),
                Some("set_public_uuids"),
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                "/v1/sets/reorder",
                json!({"parent_public_uuid": null, "set_public_uuids": [press, sat]}),
                (400, "validation"),
                Some("set_public_uuids[1]"),
            )
            .await;
        // Refused, so nothing moved.
        let kids = server
            .get(&token, &format!("/v1/sets?parent_public_uuid={festival}"))
            .await
            .json();
        assert_eq!(uuids(&kids), vec![sat.clone(), sun.clone()]);
        assert_eq!(
            uuids(&server.get(&token, "/v1/sets").await.json()),
            vec![festival.clone(), press.clone()]
        );
        Ok(())
    }
);

both_setups!(
    renaming_and_recolouring_while_a_bad_colour_changes_nothing,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let Festival { sat, .. } = festival_tree(&server, &token).await;

        // Rename and recolour; a bad colour changes nothing.
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/sets/{sat}"),
                json!({"name": "Saturday night", "colour": "red"}),
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &format!("/v1/sets/{sat}"),
                json!({"name": "Lost", "colour": "teal"}),
                (400, "validation"),
                Some("colour"),
            )
            .await;
        let s = set(&server, &token, &sat).await;
        assert_eq!(
            (s["name"].as_str(), s["colour"].as_str()),
            (Some("Saturday night"), Some("red"))
        );
        Ok(())
    }
);

both_setups!(
    reparenting_refuses_cycles_and_is_snapshotted,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let Festival {
            festival,
            sat,
            press,
            ..
        } = festival_tree(&server, &token).await;

        // Re-parent: under a descendant or itself is a cycle; elsewhere is fine.
        let late = create(
            &server,
            &token,
            json!({"name": "Late", "parent_public_uuid": sat}),
        )
        .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &format!("/v1/sets/{festival}"),
                json!({"parent_public_uuid": late}),
                (400, "validation"),
                Some("parent_public_uuid"),
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &format!("/v1/sets/{sat}"),
                json!({"parent_public_uuid": sat}),
                (400, "validation"),
                Some("parent_public_uuid"),
            )
            .await;
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/sets/{sat}"),
                json!({"parent_public_uuid": press}),
            )
            .await;
        let s = set(&server, &token, &sat).await;
        assert_eq!(s["parent_public_uuid"], press);
        assert_eq!(set(&server, &token, &festival).await["child_count"], 1);
        // The re-parent was snapshotted.
        let snaps = server
            .get(&token, &format!("/v1/sets/{sat}/snapshots"))
            .await
            .json();
        assert_eq!(snaps[0]["reason"], "parent", "{snaps}");
        Ok(())
    }
);

both_setups!(
    the_tree_lists_children_in_arranged_order,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let (
            Festival {
                festival,
                sat,
                sun,
                press,
            },
            late,
        ) = rearranged_festival_tree(&server, &token).await;

        // The tree, children in arranged order.
        let tree = server.get(&token, "/v1/sets/tree").await.json();
        assert_eq!(uuids(&tree), vec![press.clone(), festival.clone()]);
        assert_eq!(uuids(&tree[0]["children"]), vec![sat.clone()]);
        assert_eq!(
            uuids(&tree[0]["children"][0]["children"]),
            vec![late.clone()]
        );
        assert_eq!(uuids(&tree[1]["children"]), vec![sun.clone()]);
        Ok(())
    }
);

both_setups!(a_set_moves_to_the_top_level, |env: Env| async move {
    let (server, token) = start(&env).await;
    let (_, late) = rearranged_festival_tree(&server, &token).await;

    // To the top level and back.
    server
        .write_ok(
            "PATCH",
            &token,
            &format!("/v1/sets/{late}"),
            json!({"parent_public_uuid": null}),
        )
        .await;
    assert_eq!(
        set(&server, &token, &late).await["parent_public_uuid"],
        Value::Null
    );
    Ok(())
});

both_setups!(
    unknown_sets_are_not_found_and_bad_ids_are_invalid,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let Festival { festival, sat, .. } = festival_tree(&server, &token).await;

        // Unknown sets are 404; a bad id in a body is a validation error.
        let nobody = "00000000-0000-4000-8000-000000000000";
        assert_eq!(
            server
                .get(&token, &format!("/v1/sets/{nobody}"))
                .await
                .status,
            404
        );
        server
            .write_refused(
                "PATCH",
                &token,
                &format!("/v1/sets/{nobody}"),
                json!({"name": "x"}),
                (404, "set_not_found"),
                None,
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &format!("/v1/sets/{sat}"),
                json!({"parent_public_uuid": "nope"}),
                (400, "validation"),
                Some("parent_public_uuid"),
            )
            .await;
        // Refused, so Saturday stays where it was.
        assert_eq!(
            set(&server, &token, &sat).await["parent_public_uuid"],
            festival
        );
        Ok(())
    }
);

/// A well-formed uuid that names no image and no snapshot.
const GHOST: &str = "00000000-0000-4000-8000-000000000001";

/// The "Main stage" set and its five images, a to e.
struct MainStage {
    s: String,
    a: String,
    b: String,
    c: String,
    d: String,
    e: String,
}

/// How far [`main_stage`] takes its set. Each step builds on the one
/// before, as the steps once ran in one scenario: the snapshots a later
/// test reads are the ones the earlier steps took.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Five uploads; the set is empty.
    Empty,
    /// a to e in, by three adds (three membership snapshots): a to d, then
    /// b and e (b already in), then a twice.
    Filled,
    /// The full order e d c b a.
    Reversed,
    /// a and b moved before e, then a after c: b e d c a.
    Moved,
    /// c made the lead image.
    Led,
    /// d removed (with an image never in it): b e c a.
    Trimmed,
    /// Restored to the snapshot taken before the last move: a b e d c.
    Restored,
    /// That restore undone from its own snapshot: b e c a again.
    Undone,
}

/// The "Main stage" set, five fresh uploads and the steps up to `upto`.
async fn main_stage(server: &Server, token: &str, upto: Stage) -> MainStage {
    let s = create(server, token, json!({"name": "Main stage"})).await;
    let mut imgs = Vec::new();
    for n in 0..5 {
        imgs.push(upload(server, token, &format!("img{n}.jpg")).await);
    }
    let (a, b, c, d, e) = (&imgs[0], &imgs[1], &imgs[2], &imgs[3], &imgs[4]);
    let path = format!("/v1/sets/{s}/images");
    let order = format!("/v1/sets/{s}/order");
    let restore = format!("/v1/sets/{s}/restore");
    let snapshots = format!("/v1/sets/{s}/snapshots");
    if upto >= Stage::Filled {
        for ids in [json!([a, b, c, d]), json!([b, e]), json!([a, a])] {
            server
                .write_ok("POST", token, &path, json!({"image_public_uuids": ids}))
                .await;
        }
    }
    if upto >= Stage::Reversed {
        server
            .write_ok(
                "PATCH",
                token,
                &order,
                json!({"image_public_uuids": [e, d, c, b, a]}),
            )
            .await;
    }
    if upto >= Stage::Moved {
        server
            .write_ok("PATCH", token, &order, json!({"move": [a, b], "before": e}))
            .await;
        server
            .write_ok("PATCH", token, &order, json!({"move": [a], "after": c}))
            .await;
    }
    if upto >= Stage::Led {
        server
            .write_ok(
                "PATCH",
                token,
                &format!("/v1/sets/{s}"),
                json!({"lead_image_public_uuid": c}),
            )
            .await;
    }
    if upto >= Stage::Trimmed {
        let other = upload(server, token, "other.jpg").await;
        server
            .write_ok(
                "DELETE",
                token,
                &path,
                json!({"image_public_uuids": [d, other]}),
            )
            .await;
    }
    if upto >= Stage::Restored {
        let snaps = server.get(token, &snapshots).await.json();
        server
            .write_ok(
                "POST",
                token,
                &restore,
                json!({"snapshot_uuid": snaps[1]["uuid"]}),
            )
            .await;
    }
    if upto >= Stage::Undone {
        let snaps = server.get(token, &snapshots).await.json();
        server
            .write_ok(
                "POST",
                token,
                &restore,
                json!({"snapshot_uuid": snaps[0]["uuid"]}),
            )
            .await;
    }
    let [a, b, c, d, e]: [String; 5] = imgs.try_into().unwrap();
    MainStage { s, a, b, c, d, e }
}

both_setups!(
    adding_images_counts_new_and_already_in,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Empty).await;
        let path = format!("/v1/sets/{s}/images");

        let op = server
            .write_ok(
                "POST",
                &token,
                &path,
                json!({"image_public_uuids": [a, b, c, d]}),
            )
            .await;
        assert_eq!(op["result"]["added"], 4, "{op}");
        // Already in: skipped, order kept.
        let op = server
            .write_ok("POST", &token, &path, json!({"image_public_uuids": [b, e]}))
            .await;
        assert_eq!(
            (
                op["result"]["added"].as_i64(),
                op["result"]["already_in"].as_i64()
            ),
            (Some(1), Some(1))
        );
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![a.clone(), b.clone(), c.clone(), d.clone(), e.clone()]
        );
        let info = set(&server, &token, &s).await;
        assert_eq!(
            (
                info["image_count"].as_i64(),
                info["live_image_count"].as_i64()
            ),
            (Some(5), Some(5))
        );
        Ok(())
    }
);

both_setups!(an_image_names_the_sets_it_is_in, |env: Env| async move {
    let (server, token) = start(&env).await;
    let MainStage { s, a, .. } = main_stage(&server, &token, Stage::Filled).await;

    // The image object names its sets.
    let image = server.get(&token, &format!("/v1/images/{a}")).await.json();
    assert_eq!(image["sets"][0]["public_uuid"], s.as_str());
    assert_eq!(image["sets"][0]["hidden"], false);
    Ok(())
});

both_setups!(
    adding_unknown_malformed_or_no_images_is_refused,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Filled).await;
        let path = format!("/v1/sets/{s}/images");

        // An unknown image: 404 naming it; nothing added.
        server
            .write_refused(
                "POST",
                &token,
                &path,
                json!({"image_public_uuids": [e, GHOST]}),
                (404, "image_not_found"),
                Some("image_public_uuids[1]"),
            )
            .await;
        server
            .write_refused(
                "POST",
                &token,
                &path,
                json!({"image_public_uuids": [a, "nope"]}),
                (400, "validation"),
                Some("image_public_uuids[1]"),
            )
            .await;
        server
            .write_refused(
                "POST",
                &token,
                &path,
                json!({"image_public_uuids": []}),
                (400, "validation"),
                Some("image_public_uuids"),
            )
            .await;
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![a.clone(), b.clone(), c.clone(), d.clone(), e.clone()]
        );
        Ok(())
    }
);

both_setups!(
    an_image_listed_twice_is_counted_once,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Filled).await;
        let path = format!("/v1/sets/{s}/images");

        // Listed twice counts once.
        let op = server
            .write_ok("POST", &token, &path, json!({"image_public_uuids": [a, a]}))
            .await;
        assert_eq!(
            (
                op["result"]["added"].as_i64(),
                op["result"]["already_in"].as_i64()
            ),
            (Some(0), Some(1))
        );
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![a.clone(), b.clone(), c.clone(), d.clone(), e.clone()]
        );
        Ok(())
    }
);

both_setups!(a_full_order_rearranges_the_set, |env: Env| async move {
    let (server, token) = start(&env).await;
    let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Filled).await;

    // Full permutation.
    let order = format!("/v1/sets/{s}/order");
    server
        .write_ok(
            "PATCH",
            &token,
            &order,
            json!({"image_public_uuids": [e, d, c, b, a]}),
        )
        .await;
    let reversed = vec![e.clone(), d.clone(), c.clone(), b.clone(), a.clone()];
    assert_eq!(members(&server, &token, &s, "").await, reversed);
    Ok(())
});

both_setups!(a_full_order_must_be_a_permutation, |env: Env| async move {
    let (server, token) = start(&env).await;
    let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Reversed).await;
    let order = format!("/v1/sets/{s}/order");
    let reversed = vec![e.clone(), d.clone(), c.clone(), b.clone(), a.clone()];

    // Not a permutation: refused, nothing changes.
    server
        .write_refused(
            "PATCH",
            &token,
            &order,
            json!({"image_public_uuids": [e, d, c, b]}),
            (400, "validation"),
            Some("image_public_uuids"),
        )
        .await;
    server
        .write_refused(
            "PATCH",
            &token,
            &order,
            json!({"image_public_uuids": [e, d, c, b, GHOST]}),
            (400, "validation"),
            Some("image_public_uuids[4]"),
        )
        .await;
    assert_eq!(members(&server, &token, &s, "").await, reversed);
    Ok(())
});

both_setups!(
    a_bad_move_is_refused_and_changes_nothing,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Reversed).await;
        let order = format!("/v1/sets/{s}/order");
        let reversed = vec![e.clone(), d.clone(), c.clone(), b.clone(), a.clone()];

        // Both anchors, itself as the anchor, an unknown image: refused.
        server
            .write_refused(
                "PATCH",
                &token,
                &order,
                json!({"move": [a], "before": e, "after": d}),
                (400, "validation"),
                None,
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &order,
                json!({"move": [a], "before": a}),
                (400, "validation"),
                Some("before"),
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &order,
                json!({"move": [GHOST], "before": a}),
                (400, "validation"),
                Some("move[0]"),
            )
            .await;
        assert_eq!(members(&server, &token, &s, "").await, reversed);
        Ok(())
    }
);

both_setups!(
    moving_images_before_or_after_another,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Reversed).await;
        let order = format!("/v1/sets/{s}/order");

        // Move before / after.
        server
            .write_ok(
                "PATCH",
                &token,
                &order,
                json!({"move": [a, b], "before": e}),
            )
            .await;
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![a.clone(), b.clone(), e.clone(), d.clone(), c.clone()]
        );
        server
            .write_ok("PATCH", &token, &order, json!({"move": [a], "after": c}))
            .await;
        let moved = vec![b.clone(), e.clone(), d.clone(), c.clone(), a.clone()];
        assert_eq!(members(&server, &token, &s, "").await, moved);
        Ok(())
    }
);

both_setups!(the_lead_image_must_be_in_the_set, |env: Env| async move {
    let (server, token) = start(&env).await;
    let MainStage { s, c, .. } = main_stage(&server, &token, Stage::Moved).await;

    // Lead image: must be in the set.
    server
        .write_ok(
            "PATCH",
            &token,
            &format!("/v1/sets/{s}"),
            json!({"lead_image_public_uuid": c}),
        )
        .await;
    assert_eq!(
        set(&server, &token, &s).await["lead_image_public_uuid"],
        c.as_str()
    );
    let other = upload(&server, &token, "other.jpg").await;
    server
        .write_refused(
            "PATCH",
            &token,
            &format!("/v1/sets/{s}"),
            json!({"lead_image_public_uuid": other}),
            (400, "validation"),
            Some("lead_image_public_uuid"),
        )
        .await;
    assert_eq!(
        set(&server, &token, &s).await["lead_image_public_uuid"],
        c.as_str()
    );
    Ok(())
});

both_setups!(
    removing_counts_images_not_in_the_set,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Led).await;
        let other = upload(&server, &token, "other.jpg").await;

        // Remove: not-in-set ones are counted, not errors.
        let op = server
            .write_ok(
                "DELETE",
                &token,
                &format!("/v1/sets/{s}/images"),
                json!({"image_public_uuids": [d, other]}),
            )
            .await;
        assert_eq!(
            (
                op["result"]["removed"].as_i64(),
                op["result"]["not_in_set"].as_i64()
            ),
            (Some(1), Some(1))
        );
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![b.clone(), e.clone(), c.clone(), a.clone()]
        );
        Ok(())
    }
);

both_setups!(
    every_rearrangement_is_snapshotted_newest_first,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, .. } = main_stage(&server, &token, Stage::Trimmed).await;

        // Every rearrangement was snapshotted, newest first.
        let snaps = server
            .get(&token, &format!("/v1/sets/{s}/snapshots"))
            .await
            .json();
        let reasons: Vec<&str> = snaps
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            vec![
                "membership",
                "order",
                "order",
                "order",
                "membership",
                "membership",
                "membership"
            ]
        );
        // The snapshot before the last move holds the order after the first move.
        assert_eq!(snaps[1]["image_count"], 5);
        Ok(())
    }
);

both_setups!(
    restore_brings_back_members_and_order,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, d, e } = main_stage(&server, &token, Stage::Trimmed).await;
        let snaps = server
            .get(&token, &format!("/v1/sets/{s}/snapshots"))
            .await
            .json();
        // The snapshot before the last move holds the order after the first move.
        let before_last_move = snaps[1]["uuid"].as_str().unwrap().to_owned();

        // Restore after a reorder: members, order (d comes back).
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/sets/{s}/restore"),
                json!({"snapshot_uuid": before_last_move}),
            )
            .await;
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![a.clone(), b.clone(), e.clone(), d.clone(), c.clone()]
        );
        Ok(())
    }
);

both_setups!(
    a_restore_is_snapshotted_so_it_can_be_undone,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, e, .. } = main_stage(&server, &token, Stage::Restored).await;

        // The restore was snapshotted too, so it can be undone.
        let snaps = server
            .get(&token, &format!("/v1/sets/{s}/snapshots"))
            .await
            .json();
        assert_eq!(snaps[0]["reason"], "restore");
        assert_eq!(snaps[0]["image_count"], 4);
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/sets/{s}/restore"),
                json!({"snapshot_uuid": snaps[0]["uuid"]}),
            )
            .await;
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![b.clone(), e.clone(), c.clone(), a.clone()]
        );
        Ok(())
    }
);

both_setups!(
    restoring_an_unknown_snapshot_is_not_found,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let MainStage { s, a, b, c, e, .. } = main_stage(&server, &token, Stage::Undone).await;

        server
            .write_refused(
                "POST",
                &token,
                &format!("/v1/sets/{s}/restore"),
                json!({"snapshot_uuid": GHOST}),
                (404, "snapshot_not_found"),
                Some("snapshot_uuid"),
            )
            .await;
        assert_eq!(
            members(&server, &token, &s, "").await,
            vec![b.clone(), e.clone(), c.clone(), a.clone()]
        );
        Ok(())
    }
);

both_setups!(the_search_index_follows_membership, |env: Env| async move {
    let (server, token) = start(&env).await;
    // After adds, reorders, a removal and a restore undone: a, b, c and e.
    let MainStage { s, a, b, c, e, .. } = main_stage(&server, &token, Stage::Undone).await;

    // The search index follows membership.
    let found = lightbox_testkit::eventually(20, || async {
        let list = server
            .get(&token, &format!("/v1/images?set_public_uuid={s}&limit=200"))
            .await
            .json();
        let mut got = uuids(&list);
        got.sort();
        let mut want = vec![a.clone(), b.clone(), c.clone(), e.clone()];
        want.sort();
        (got == want).then_some(())
    })
    .await;
    assert!(found.is_some(), "the index never agreed with the set");
    Ok(())
});

/// The "Embargoed" set with three images in it, all live.
async fn embargo_set(server: &Server, token: &str) -> (String, Vec<String>) {
    let s = create(server, token, json!({"name": "Embargoed"})).await;
    let mut imgs = Vec::new();
    for n in 0..3 {
        imgs.push(upload(server, token, &format!("e{n}.jpg")).await);
    }
    server
        .write_ok(
            "POST",
            token,
            &format!("/v1/sets/{s}/images"),
            json!({"image_public_uuids": imgs}),
        )
        .await;
    (s, imgs)
}

/// A server whose clock stands still until the test moves it
/// (`--debug-clock`): an embargo's instant is then reached exactly when the
/// test says, however slow the machine.
async fn start_clocked(env: &Env) -> (Server, String) {
    let account = env.account("sets").await;
    let token = env
        .token(&account, "api.images.read,api.sets.write,api.upload", &[])
        .await;
    (env.serve(&["--debug-clock"]).await, token)
}

/// Seconds from the server's clock to the embargo's instant.
const LIFT_SECS: u64 = 60;

/// The embargo set with its third image hidden for good and the first two
/// embargoed until [`LIFT_SECS`] after the server's clock (a
/// [`start_clocked`] server); `at` is that instant as the request wrote it.
struct Embargo {
    s: String,
    imgs: Vec<String>,
    at: String,
}

/// An RFC 3339 UTC time without its trailing zero fraction digits (and
/// without a fraction that is all zeros): `…:40.000Z` and `…:40Z` agree.
fn instant_text(text: &str) -> String {
    let text = text.trim_end_matches('Z');
    match text.split_once('.') {
        Some((seconds, fraction)) => match fraction.trim_end_matches('0') {
            "" => seconds.to_owned(),
            digits => format!("{seconds}.{digits}"),
        },
        None => text.to_owned(),
    }
}

/// Moves the server's clock just past the embargo's instant.
async fn lift(server: &Server) {
    server.advance_debug_clock(LIFT_SECS + 1).await;
}

async fn embargoed(server: &Server, token: &str) -> Embargo {
    let (s, imgs) = embargo_set(server, token).await;
    let vis = format!("/v1/sets/{s}/visibility");
    server
        .write_ok(
            "PATCH",
            token,
            &vis,
            json!({"hidden": true, "image_public_uuids": [imgs[2]]}),
        )
        .await;
    // Embargo the first two until LIFT_SECS from the server's now.
    let lift_secs = server.debug_clock_now().await + LIFT_SECS;
    let at = time_text(Duration::from_secs(lift_secs));
    server.write_ok("PATCH", token, &vis, json!({"hidden": true, "activation_time": at, "image_public_uuids": [imgs[0], imgs[1]]}))
    .await;
    // Live lists are searched in the index: it has to have the set's
    // images before the embargo lifts, or "not live yet" and "live now"
    // could not be told from "not indexed yet".
    let indexed = lightbox_testkit::eventually(10, || async {
        let r = server
            .get(token, &format!("/v1/images?set_public_uuid={s}&limit=200"))
            .await
            .json();
        (r.as_array().map(Vec::len) == Some(3)).then_some(())
    })
    .await;
    assert!(indexed.is_some(), "the index never had the set's images");
    Embargo { s, imgs, at }
}

both_setups!(
    visibility_refuses_bad_values_and_strangers,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let (s, _) = embargo_set(&server, &token).await;
        let vis = format!("/v1/sets/{s}/visibility");

        // Strict boolean; a bad time or a stranger image changes nothing.
        server
            .write_refused(
                "PATCH",
                &token,
                &vis,
                json!({"hidden": "true"}),
                (400, "validation"),
                Some("hidden"),
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &vis,
                json!({"hidden": true, "activation_time": "tomorrow"}),
                (400, "validation"),
                Some("activation_time"),
            )
            .await;
        server
            .write_refused(
                "PATCH",
                &token,
                &vis,
                json!({"activation_time": null}),
                (400, "validation"),
                None,
            )
            .await;
        let other = upload(&server, &token, "other.jpg").await;
        server
            .write_refused(
                "PATCH",
                &token,
                &vis,
                json!({"hidden": true, "image_public_uuids": [other]}),
                (400, "validation"),
                Some("image_public_uuids[0]"),
            )
            .await;
        assert_eq!(set(&server, &token, &s).await["live_image_count"], 3);
        Ok(())
    }
);

both_setups!(
    hiding_an_image_takes_it_out_of_the_live_count,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let (s, imgs) = embargo_set(&server, &token).await;

        // Hide one for good.
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/sets/{s}/visibility"),
                json!({"hidden": true, "image_public_uuids": [imgs[2]]}),
            )
            .await;
        assert_eq!(set(&server, &token, &s).await["live_image_count"], 2);
        Ok(())
    }
);

both_setups!(
    an_embargoed_image_shows_the_instant_it_lifts,
    |env: Env| async move {
        let (server, token) = start_clocked(&env).await;
        let Embargo { imgs, at, .. } = embargoed(&server, &token).await;

        let image = server
            .get(&token, &format!("/v1/images/{}", imgs[0]))
            .await
            .json();
        assert_eq!(image["sets"][0]["hidden"], true);
        // The same instant, written with as many digits as it needs.
        let shown = image["sets"][0]["activation_time"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(instant_text(&shown), instant_text(&at), "{shown} vs {at}");
        Ok(())
    }
);

both_setups!(
    nothing_embargoed_is_live_before_the_instant,
    |env: Env| async move {
        let (server, token) = start_clocked(&env).await;
        let Embargo { s, .. } = embargoed(&server, &token).await;

        let live_list = format!("/v1/images?set_public_uuid={s}&live=true&limit=200");
        // Before the instant, and still a second before it: nothing is
        // live, by count, by list and by the index.
        for advance in [0, LIFT_SECS - 1] {
            if advance > 0 {
                server.advance_debug_clock(advance).await;
            }
            let before = set(&server, &token, &s).await;
            let listed = members(&server, &token, &s, "&live=true").await;
            let searched = uuids(&server.get(&token, &live_list).await.json());
            assert_eq!(before["live_image_count"], 0, "{before}");
            assert!(listed.is_empty(), "{listed:?}");
            assert!(searched.is_empty(), "{searched:?}");
        }
        Ok(())
    }
);

both_setups!(
    an_embargo_lifts_at_its_instant_without_a_sweeper,
    |env: Env| async move {
        let (server, token) = start_clocked(&env).await;
        let Embargo { s, imgs, .. } = embargoed(&server, &token).await;
        let live_list = format!("/v1/images?set_public_uuid={s}&live=true&limit=200");

        // Just after the instant: both are live, without any sweeper.
        lift(&server).await;
        let after = set(&server, &token, &s).await;
        assert_eq!(after["live_image_count"], 2, "{after}");
        assert_eq!(
            members(&server, &token, &s, "&live=true").await,
            vec![imgs[0].clone(), imgs[1].clone()]
        );
        let mut searched = uuids(&server.get(&token, &live_list).await.json());
        searched.sort();
        let mut want = vec![imgs[0].clone(), imgs[1].clone()];
        want.sort();
        assert_eq!(searched, want);
        Ok(())
    }
);

both_setups!(
    after_the_instant_only_the_hidden_image_is_not_live,
    |env: Env| async move {
        let (server, token) = start_clocked(&env).await;
        let Embargo { s, imgs, .. } = embargoed(&server, &token).await;

        // Just after the instant.
        lift(&server).await;
        let not_live = uuids(
            &server
                .get(
                    &token,
                    &format!("/v1/images?set_public_uuid={s}&live=false"),
                )
                .await
                .json(),
        );
        assert_eq!(not_live, vec![imgs[2].clone()]);
        Ok(())
    }
);

both_setups!(
    live_facets_agree_with_the_live_count,
    |env: Env| async move {
        let (server, token) = start_clocked(&env).await;
        let Embargo { s, .. } = embargoed(&server, &token).await;

        // Just after the instant.
        lift(&server).await;
        let after = set(&server, &token, &s).await;
        // Facets over the same filter agree with the count.
        let facets = server
            .get(
                &token,
                &format!("/v1/facets?set_public_uuid={s}&live=true&fields=has_video"),
            )
            .await
            .json();
        let total: i64 = facets["has_video"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_i64().unwrap())
            .sum();
        assert_eq!(after["live_image_count"], 2, "{after}");
        assert_eq!(
            total,
            after["live_image_count"].as_i64().unwrap(),
            "{facets}"
        );
        Ok(())
    }
);

both_setups!(the_live_filter_needs_a_set, |env: Env| async move {
    let (server, token) = start(&env).await;
    // Images in a set exist: a wrongly accepted filter would list them.
    embargo_set(&server, &token).await;

    // `live` needs a set.
    server
        .get(&token, "/v1/images?live=true")
        .await
        .error(400, "validation");
    Ok(())
});

both_setups!(
    showing_every_image_of_the_set_makes_all_live,
    |env: Env| async move {
        let (server, token) = start_clocked(&env).await;
        let Embargo { s, .. } = embargoed(&server, &token).await;
        lift(&server).await;

        // Showing every image of the set (no list) makes all live.
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/sets/{s}/visibility"),
                json!({"hidden": false}),
            )
            .await;
        assert_eq!(set(&server, &token, &s).await["live_image_count"], 3);
        let snaps = server
            .get(&token, &format!("/v1/sets/{s}/snapshots"))
            .await
            .json();
        assert_eq!(snaps[0]["reason"], "visibility");
        Ok(())
    }
);

/// RFC 3339 with milliseconds for a time since the epoch.
fn time_text(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs() as i64;
    let millis = since_epoch.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

both_engines!(concurrent_reorders_never_mix, |env: Env| async move {
    let (server, token) = start(&env).await;
    let s = create(&server, &token, json!({"name": "Contested"})).await;
    let first = upload(&server, &token, "c.jpg").await;
    let mut imgs = vec![first.clone()];
    imgs.extend(env.clone_images(&first, 299).await);
    server
        .write_ok(
            "POST",
            &token,
            &format!("/v1/sets/{s}/images"),
            json!({"image_public_uuids": imgs}),
        )
        .await;
    let forward = imgs.clone();
    let mut backward = imgs.clone();
    backward.reverse();
    let mut shuffled = imgs.clone();
    shuffled.rotate_left(137);
    let orders = [forward, backward, shuffled];
    for round in 0..4 {
        let path = format!("/v1/sets/{s}/order");
        let sends = orders.iter().map(|order| {
            let (server, token, path) = (&server, &token, &path);
            async move {
                server
                    .write(
                        "PATCH",
                        token,
                        path,
                        &idempotency_key(),
                        Some(&json!({"image_public_uuids": order})),
                    )
                    .await
            }
        });
        for r in futures::future::join_all(sends).await {
            assert_eq!(r.status, 202, "round {round}: {}", r.text);
        }
        let mut got = Vec::new();
        let mut offset = 0;
        loop {
            let page = server
                .get(
                    &token,
                    &format!("/v1/sets/{s}/images?limit=200&offset={offset}"),
                )
                .await;
            let ids = uuids(&page.json());
            offset += ids.len();
            got.extend(ids);
            if page.header("x-has-more").as_deref() != Some("true") {
                break;
            }
        }
        assert!(
            orders.contains(&got),
            "round {round}: a mix of orders, or a lost image ({} images)",
            got.len()
        );
    }
    Ok(())
});

both_setups!(ten_thousand_images_move_as_a_job, |env: Env| async move {
    let (server, token) = start(&env).await;
    let s = create(&server, &token, json!({"name": "Big"})).await;
    let first = upload(&server, &token, "big.jpg").await;
    let mut imgs = vec![first.clone()];
    imgs.extend(env.clone_images(&first, 9_999).await);
    let path = format!("/v1/sets/{s}/images");

    // 10,000 in: queued, then done as one job.
    let r = server
        .write(
            "POST",
            &token,
            &path,
            &idempotency_key(),
            Some(&json!({"image_public_uuids": imgs})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let op = r.json();
    assert_eq!(op["status"], "queued", "{op}");
    let op = finished(&server, &token, op["uuid"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(
        (
            op["result"]["added"].as_i64(),
            op["result"]["done"].as_i64(),
            op["result"]["total"].as_i64()
        ),
        (Some(10_000), Some(10_000), Some(10_000))
    );
    assert_eq!(set(&server, &token, &s).await["image_count"], 10_000);

    // More than 10,000 in one request: refused.
    let mut too_many = imgs.clone();
    too_many.push(upload(&server, &token, "extra.jpg").await);
    server
        .write_refused(
            "POST",
            &token,
            &path,
            json!({"image_public_uuids": too_many}),
            (400, "validation"),
            Some("image_public_uuids"),
        )
        .await;

    // Reverse all 10,000; then move the last 5,000 to the front.
    let mut reversed = imgs.clone();
    reversed.reverse();
    server
        .write_ok(
            "PATCH",
            &token,
            &format!("/v1/sets/{s}/order"),
            json!({"image_public_uuids": reversed}),
        )
        .await;
    let page = members(&server, &token, &s, "").await;
    assert_eq!(page[..3], reversed[..3]);
    server
        .write_ok(
            "PATCH",
            &token,
            &format!("/v1/sets/{s}/order"),
            json!({"move": reversed[5_000..], "before": reversed[0]}),
        )
        .await;
    let page = members(&server, &token, &s, "").await;
    assert_eq!(page[..3], reversed[5_000..5_003]);
    let tail = server
        .get(&token, &format!("/v1/sets/{s}/images?limit=3&offset=9997"))
        .await
        .json();
    assert_eq!(uuids(&tail), reversed[4_997..5_000].to_vec());

    // Hide them all, then remove 10,000 (every one): queued jobs too.
    server
        .write_ok(
            "PATCH",
            &token,
            &format!("/v1/sets/{s}/visibility"),
            json!({"hidden": true}),
        )
        .await;
    let info = set(&server, &token, &s).await;
    assert_eq!(
        (
            info["image_count"].as_i64(),
            info["live_image_count"].as_i64()
        ),
        (Some(10_000), Some(0))
    );
    let op = server
        .write_ok("DELETE", &token, &path, json!({"image_public_uuids": imgs}))
        .await;
    assert_eq!(op["result"]["removed"], 10_000);
    assert_eq!(set(&server, &token, &s).await["image_count"], 0);

    // And restore the 10,000 from the snapshot taken before the removal.
    let snaps = server
        .get(&token, &format!("/v1/sets/{s}/snapshots"))
        .await
        .json();
    assert_eq!(
        (
            snaps[0]["reason"].as_str(),
            snaps[0]["image_count"].as_i64()
        ),
        (Some("membership"), Some(10_000))
    );
    server
        .write_ok(
            "POST",
            &token,
            &format!("/v1/sets/{s}/restore"),
            json!({"snapshot_uuid": snaps[0]["uuid"]}),
        )
        .await;
    let info = set(&server, &token, &s).await;
    assert_eq!(
        (
            info["image_count"].as_i64(),
            info["live_image_count"].as_i64()
        ),
        (Some(10_000), Some(0))
    );
    assert_eq!(
        members(&server, &token, &s, "").await[..3],
        reversed[5_000..5_003]
    );
    Ok(())
});

both_setups!(
    a_batch_changes_at_most_a_thousand_set_images,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let (a, b) = (
            create(&server, &token, json!({"name": "A"})).await,
            create(&server, &token, json!({"name": "B"})).await,
        );
        let first = upload(&server, &token, "one.jpg").await;
        let mut imgs = vec![first.clone()];
        imgs.extend(env.clone_images(&first, 1_199).await);
        let add = |set: &str, ids: &[String]| json!({"method": "POST", "path": format!("/v1/sets/{set}/images"), "body": {"image_public_uuids": ids}});
        // 600 + 600 set images in one request: the second item is refused
        // (a batch is a request, not a job) and nothing is applied.
        let r = server
            .batch(
                &token,
                json!([add(&a, &imgs[..600]), add(&b, &imgs[600..])]),
            )
            .await;
        let e = r.error(400, "validation");
        assert_eq!(
            (e["field"].as_str(), e["detail"].as_str()),
            (Some("operations[1].body"), Some("batch_set_images")),
            "{e}"
        );
        assert_eq!(set(&server, &token, &a).await["image_count"], 0);
        assert_eq!(set(&server, &token, &b).await["image_count"], 0);
        // 500 + 500 fit; then hiding all of A's 500 and B's 500 (no list:
        // every member) is 1,000 too, but one more image is over.
        let r = server
            .batch(
                &token,
                json!([add(&a, &imgs[..500]), add(&b, &imgs[500..1_000])]),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        assert_eq!(set(&server, &token, &a).await["image_count"], 500);
        let hide_all = |set: &str| json!({"method": "PATCH", "path": format!("/v1/sets/{set}/visibility"), "body": {"hidden": true}});
        let r = server
            .batch(
                &token,
                json!([hide_all(&a), hide_all(&b), add(&a, &imgs[1_000..1_001])]),
            )
            .await;
        assert_eq!(
            r.error(400, "validation")["field"],
            "operations[2].body",
            "{}",
            r.text
        );
        let r = server
            .batch(&token, json!([hide_all(&a), hide_all(&b)]))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        // The same 600 as their own request: a job, as before.
        let r = server
            .write(
                "POST",
                &token,
                &format!("/v1/sets/{a}/images"),
                &idempotency_key(),
                Some(&json!({"image_public_uuids": imgs[..1_001]})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        assert_eq!(r.json()["status"], "queued", "{}", r.text);
        Ok(())
    }
);

both_setups!(
    a_batch_rearranges_sets_of_at_most_ten_thousand_images_in_all,
    |env: Env| async move {
        // Each set item snapshots and rewrites its whole set: moving one
        // image of a 5,001-image set twice is 10,002 images, over a batch's
        // budget, though it names only two.
        let (server, token) = start(&env).await;
        let big = create(&server, &token, json!({"name": "Big"})).await;
        let first = upload(&server, &token, "one.jpg").await;
        let mut imgs = vec![first.clone()];
        imgs.extend(env.clone_images(&first, 5_000).await);
        let r = server
            .write(
                "POST",
                &token,
                &format!("/v1/sets/{big}/images"),
                &idempotency_key(),
                Some(&json!({"image_public_uuids": imgs})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let op = finished(&server, &token, r.json()["uuid"].as_str().unwrap()).await;
        assert_eq!(op["status"], "succeeded", "{op}");
        let order = format!("/v1/sets/{big}/order");
        let step = |id: &str, before: &str| json!({"method": "PATCH", "path": order, "body": {"move": [id], "before": before}});
        let r = server
            .batch(
                &token,
                json!([step(&imgs[9], &imgs[0]), step(&imgs[8], &imgs[0])]),
            )
            .await;
        let e = r.error(400, "validation");
        assert_eq!(
            (e["field"].as_str(), e["detail"].as_str()),
            (Some("operations[1].body"), Some("batch_set_images")),
            "{e}"
        );
        let page = members(&server, &token, &big, "").await;
        assert_eq!(page[..10], imgs[..10], "nothing moved");
        // One such move fits.
        let r = server
            .batch(&token, json!([step(&imgs[9], &imgs[0])]))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        Ok(())
    }
);

both_setups!(
    batches_naming_the_same_sets_in_other_orders_do_not_deadlock,
    |env: Env| async move {
        let (server, token) = start(&env).await;
        let (a, b) = (
            create(&server, &token, json!({"name": "A"})).await,
            create(&server, &token, json!({"name": "B"})).await,
        );
        let one = upload(&server, &token, "one.jpg").await;
        let two = upload(&server, &token, "two.jpg").await;
        let add = |set: &str, id: &str| json!({"method": "POST", "path": format!("/v1/sets/{set}/images"), "body": {"image_public_uuids": [id]}});
        let remove = |set: &str, id: &str| json!({"method": "DELETE", "path": format!("/v1/sets/{set}/images"), "body": {"image_public_uuids": [id]}});
        // A→B and B→A at once, many times: every batch is applied.
        for round in 0..15 {
            let forward = json!([
                add(&a, &one),
                add(&b, &two),
                remove(&a, &one),
                remove(&b, &two)
            ]);
            let backward = json!([
                add(&b, &two),
                add(&a, &one),
                remove(&b, &two),
                remove(&a, &one)
            ]);
            let (x, y) = tokio::join!(
                server.batch(&token, forward),
                server.batch(&token, backward)
            );
            assert_eq!(x.status, 202, "round {round}: {}", x.text);
            assert_eq!(y.status, 202, "round {round}: {}", y.text);
        }
        Ok(())
    }
);
