//! Editorial work over real HTTP: keywords, IPTC metadata and profiles,
//! ratings, crops, alt text, credits, extraction from the file, batches,
//! full-text search and facets — on SQLite with the folder blob store and
//! on PostgreSQL with a real S3-compatible server, with real image files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use lightbox_media::fixtures::{self, FixtureMeta};
use lightbox_testkit::{
    Env, Server, both_setups, eventually, finished_operation as finished, idempotency_key,
};
use serde_json::{Value, json};

/// Waits for the image's size to be known (crops need it).
async fn sized(server: &Server, token: &str, id: &str) -> Value {
    eventually(60, || async {
        let image = server.get(token, &format!("/v1/images/{id}")).await.json();
        image["width"].is_i64().then_some(image)
    })
    .await
    .unwrap_or_else(|| panic!("size of {id} never known"))
}

/// A write that must be accepted and already `succeeded` in its answer
/// (these edits finish within the request); its Operation.
async fn ok(server: &Server, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let op = server.write_accepted(method, token, path, body).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    op
}

async fn image(server: &Server, token: &str, id: &str) -> Value {
    let r = server.get(token, &format!("/v1/images/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

fn keyword_list(image: &Value) -> Vec<String> {
    image["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keyword"].as_str().unwrap().to_owned())
        .collect()
}

/// A server, an all-scope token and a 200×100 image titled "Encore" whose
/// size is known: where each editing test starts. Returns (server, token,
/// image id, the image once sized).
async fn encore(env: &Env) -> (Server, String, String, Value) {
    let (server, token) = env.account_server("fest", &[]).await;
    let id = server
        .upload_with(
            &token,
            &json!({"filename": "a.jpg", "title": "Encore"}),
            fixtures::jpeg(200, 100),
        )
        .await;
    let sized = sized(&server, &token, &id).await;
    (server, token, id, sized)
}

// The editing endpoints, each part on its own fresh image: a failure in one
// part does not hide the others.

/// The Encore image given the keywords "artist:Marina", " stage : Main ",
/// "encore" and "encore" again in one request. Returns (server, token,
/// image id, that request's Operation).
async fn encore_with_keywords(env: &Env) -> (Server, String, String, Value) {
    let (server, token, id, _) = encore(env).await;
    let op = ok(
        &server,
        &token,
        "POST",
        &format!("/v1/images/{id}/keywords"),
        Some(json!({"keywords": ["artist:Marina", " stage : Main ", "encore", "encore"]})),
    )
    .await;
    (server, token, id, op)
}

/// [`encore_with_keywords`], then keywords removed by bare value +
/// namespace ("artist:Marina"), then by whole form ("encore", twice: the
/// second finds nothing): only "stage:Main" is left. Returns (server,
/// token, image id, the three removals' Operations).
async fn encore_with_only_stage_main(env: &Env) -> (Server, String, String, [Value; 3]) {
    let (server, token, id, _) = encore_with_keywords(env).await;
    let path = format!("/v1/images/{id}/keywords");
    let by_value = ok(
        &server,
        &token,
        "DELETE",
        &path,
        Some(json!({"keyword": "Marina", "namespace": "artist"})),
    )
    .await;
    let whole = ok(
        &server,
        &token,
        "DELETE",
        &path,
        Some(json!({"keyword": "encore"})),
    )
    .await;
    let again = ok(
        &server,
        &token,
        "DELETE",
        &path,
        Some(json!({"keyword": "encore"})),
    )
    .await;
    (server, token, id, [by_value, whole, again])
}

/// [`encore_with_only_stage_main`] and a second image uploaded with the
/// keywords "stage:Main", "stage:Side" and "crowd": a vocabulary with
/// different counts, from which the removed keywords must be gone.
/// Returns (server, token, the second image's id).
async fn two_keyworded_images(env: &Env) -> (Server, String, String) {
    let (server, token, _, _) = encore_with_only_stage_main(env).await;
    let other = server
        .upload_with(
            &token,
            &json!({"filename": "b.jpg", "keywords": ["stage:Main", "stage:Side", "crowd"]}),
            fixtures::jpeg(64, 48),
        )
        .await;
    (server, token, other)
}

both_setups!(
    keywords_are_split_trimmed_and_added_once,
    |env: Env| async move {
        let (server, token, id, op) = encore_with_keywords(&env).await;

        // Keywords: added, split, duplicates skipped.
        assert_eq!(op["result"]["added"], 3);
        let img = image(&server, &token, &id).await;
        assert_eq!(
            keyword_list(&img),
            ["artist:Marina", "stage:Main", "encore"]
        );
        assert_eq!(
            img["keywords"][1],
            json!({"keyword": "stage:Main", "namespace": "stage", "value": "Main"})
        );
        Ok(())
    }
);

both_setups!(
    a_bad_keyword_list_is_refused_and_changes_nothing,
    |env: Env| async move {
        let (server, token, id, _) = encore_with_keywords(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        let many: Vec<String> = (0..201).map(|n| format!("k{n}")).collect();
        server
            .write_refused(
                "POST",
                &token,
                &path("/keywords"),
                json!({"keywords": many}),
                (400, "validation"),
                Some("keywords"),
            )
            .await;
        server
            .write_refused(
                "POST",
                &token,
                &path("/keywords"),
                json!({"keywords": [":"]}),
                (400, "validation"),
                Some("keywords[0]"),
            )
            .await;
        server
            .write_refused(
                "POST",
                &token,
                &path("/keywords"),
                json!({"keywords": ["ok", "artist:"]}),
                (400, "validation"),
                Some("keywords[1]"),
            )
            .await;
        server
            .write_refused(
                "POST",
                &token,
                &path("/keywords"),
                json!({"keywords": []}),
                (400, "validation"),
                Some("keywords"),
            )
            .await;
        server
            .write_refused(
                "POST",
                &token,
                &path("/keywords"),
                json!({"keywords": ["a"], "x": 1}),
                (400, "validation"),
                Some("x"),
            )
            .await;
        // Not even the good keywords of a refused list ("ok", "a") are added.
        assert_eq!(
            keyword_list(&image(&server, &token, &id).await),
            ["artist:Marina", "stage:Main", "encore"]
        );
        Ok(())
    }
);

both_setups!(
    keywords_are_removed_by_value_and_namespace_or_whole_form_once,
    |env: Env| async move {
        let (server, token, id, [by_value, whole, again]) = encore_with_only_stage_main(&env).await;

        assert_eq!(by_value["result"]["removed"], true);
        assert_eq!(whole["result"]["removed"], true);
        assert_eq!(again["result"]["removed"], false);
        assert_eq!(
            keyword_list(&image(&server, &token, &id).await),
            ["stage:Main"]
        );
        Ok(())
    }
);

both_setups!(
    a_192_character_title_is_refused_and_changes_nothing,
    |env: Env| async move {
        let (server, token, id, _) = encore(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        server
            .write_refused(
                "PATCH",
                &token,
                &path(""),
                json!({"title": "x".repeat(192)}),
                (400, "validation"),
                Some("title"),
            )
            .await;
        assert_eq!(image(&server, &token, &id).await["title"], "Encore");
        Ok(())
    }
);

both_setups!(
    a_rating_not_a_whole_number_from_zero_to_five_is_refused_and_changes_nothing,
    |env: Env| async move {
        let (server, token, id, _) = encore(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        server
            .write_refused(
                "PUT",
                &token,
                &path("/rating"),
                json!({"rating": 6}),
                (400, "validation"),
                Some("rating"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/rating"),
                json!({"rating": "5"}),
                (400, "validation"),
                Some("rating"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/rating"),
                json!({"rating": 4.5}),
                (400, "validation"),
                Some("rating"),
            )
            .await;
        // Still unrated, as every new image is.
        assert_eq!(image(&server, &token, &id).await["rating"], 0);
        Ok(())
    }
);

both_setups!(a_whole_rating_is_stored, |env: Env| async move {
    let (server, token, id, _) = encore(&env).await;
    let path = |tail: &str| format!("/v1/images/{id}{tail}");

    ok(
        &server,
        &token,
        "PUT",
        &path("/rating"),
        Some(json!({"rating": 4})),
    )
    .await;
    assert_eq!(image(&server, &token, &id).await["rating"], 4);
    Ok(())
});

both_setups!(
    alt_text_over_1000_characters_is_refused_and_shorter_is_stored,
    |env: Env| async move {
        let (server, token, id, _) = encore(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        server
            .write_refused(
                "PUT",
                &token,
                &path("/alt_text"),
                json!({"alt_text": "x".repeat(1001)}),
                (400, "validation"),
                Some("alt_text"),
            )
            .await;
        ok(
            &server,
            &token,
            "PUT",
            &path("/alt_text"),
            Some(json!({"alt_text": "The singer, arms raised"})),
        )
        .await;
        assert_eq!(
            image(&server, &token, &id).await["alt_text"],
            "The singer, arms raised"
        );
        Ok(())
    }
);

both_setups!(
    a_credit_needs_a_role_and_is_removed_by_its_uuid,
    |env: Env| async move {
        let (server, token, id, _) = encore(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        let op = ok(
            &server,
            &token,
            "POST",
            &path("/credits"),
            Some(json!({"role": "Photo", "name": "Jane Doe"})),
        )
        .await;
        let credit = op["result"]["credit"]["uuid"].as_str().unwrap().to_owned();
        server
            .write_refused(
                "POST",
                &token,
                &path("/credits"),
                json!({"role": " ", "name": "x"}),
                (400, "validation"),
                Some("role"),
            )
            .await;
        assert_eq!(
            image(&server, &token, &id).await["credits"],
            json!([{"uuid": credit, "role": "Photo", "name": "Jane Doe"}])
        );
        let r = server
            .write(
                "DELETE",
                &token,
                &path("/credits"),
                &idempotency_key(),
                Some(&json!({"credit_uuid": "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f"})),
            )
            .await;
        r.error(404, "not_found");
        ok(
            &server,
            &token,
            "DELETE",
            &path("/credits"),
            Some(json!({"credit_uuid": credit})),
        )
        .await;
        assert_eq!(image(&server, &token, &id).await["credits"], json!([]));
        Ok(())
    }
);

both_setups!(
    an_edit_of_an_unknown_image_is_not_found,
    |env: Env| async move {
        let (server, token, _, _) = encore(&env).await;

        let r = server
            .write(
                "PUT",
                &token,
                "/v1/images/0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f/rating",
                &idempotency_key(),
                Some(&json!({"rating": 1})),
            )
            .await;
        r.error(404, "image_not_found");
        Ok(())
    }
);

both_setups!(
    an_edit_outside_the_tokens_scopes_is_forbidden_and_changes_nothing,
    |env: Env| async move {
        let (server, token, id, _) = encore(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        let before = image(&server, &token, &id).await["metadata"].clone();
        let reader = env
            .token("fest", "api.images.read,api.ratings.write", &[])
            .await;
        let r = server
            .write(
                "PUT",
                &reader,
                &path("/metadata"),
                &idempotency_key(),
                Some(&json!({"creator": "x"})),
            )
            .await;
        let e = r.error(403, "forbidden");
        assert_eq!(e["detail"], "api.metadata.write");
        assert_eq!(image(&server, &token, &id).await["metadata"], before);
        Ok(())
    }
);

both_setups!(
    the_keyword_vocabulary_counts_images_per_keyword_and_namespace,
    |env: Env| async move {
        let (server, token, _) = two_keyworded_images(&env).await;

        let vocab = server.get(&token, "/v1/keywords").await.json();
        assert_eq!(
            vocab,
            json!([
                {"keyword": "crowd", "namespace": null, "value": "crowd", "count": 1},
                {"keyword": "stage:Main", "namespace": "stage", "value": "Main", "count": 2},
                {"keyword": "stage:Side", "namespace": "stage", "value": "Side", "count": 1},
            ])
        );
        let by_count = server.get(&token, "/v1/keywords?sort=count&limit=1").await;
        assert_eq!(by_count.json()[0]["keyword"], "stage:Main");
        assert_eq!(by_count.header("x-has-more").as_deref(), Some("true"));
        let in_ns = server
            .get(&token, "/v1/keywords?namespace=stage&prefix=s")
            .await
            .json();
        assert_eq!(in_ns.as_array().unwrap().len(), 1);
        assert_eq!(in_ns[0]["keyword"], "stage:Side");
        assert_eq!(
            server
                .get(&token, "/v1/keywords?prefix=STAGE:")
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            server.get(&token, "/v1/keywords/namespaces").await.json(),
            json!([{"namespace": "stage", "keyword_count": 2, "count": 3}])
        );
        Ok(())
    }
);

both_setups!(an_unknown_keyword_sort_is_refused, |env: Env| async move {
    let (server, token, _) = two_keyworded_images(&env).await;

    server
        .get(&token, "/v1/keywords?sort=size")
        .await
        .error(400, "validation");
    Ok(())
});

both_setups!(
    deleting_an_image_takes_its_keywords_out_of_the_counts,
    |env: Env| async move {
        let (server, token, other) = two_keyworded_images(&env).await;

        // Counted before, so it is the deletion that takes them out.
        let before = server.get(&token, "/v1/keywords").await.json();
        assert_eq!(before.as_array().map(Vec::len), Some(3), "{before}");
        let r = server
            .delete(&token, &format!("/v1/images/{other}"), &idempotency_key())
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let vocab = server.get(&token, "/v1/keywords").await.json();
        assert_eq!(
            vocab,
            json!([{"keyword": "stage:Main", "namespace": "stage", "value": "Main", "count": 1}])
        );
        Ok(())
    }
);

both_setups!(
    crops_stay_inside_and_turn_with_the_image,
    |env: Env| async move {
        let (server, token, id, before) = encore(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        // Crops: inside the image, the named ratio within a pixel.
        assert_eq!(
            (before["width"].as_i64(), before["height"].as_i64()),
            (Some(200), Some(100))
        );
        server
            .write_refused(
                "PUT",
                &token,
                &path("/crop"),
                json!({"aspect_ratio": "16:9", "x": 60, "y": 0, "width": 160, "height": 90}),
                (400, "validation"),
                Some("x"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/crop"),
                json!({"aspect_ratio": "16:9", "x": 0, "y": 20, "width": 160, "height": 90}),
                (400, "validation"),
                Some("y"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/crop"),
                json!({"aspect_ratio": "16:9", "x": 0, "y": 0, "width": 160, "height": 80}),
                (400, "validation"),
                Some("height"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/crop"),
                json!({"aspect_ratio": "16x9", "x": 0, "y": 0, "width": 160, "height": 90}),
                (400, "validation"),
                Some("aspect_ratio"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/crop"),
                json!({"aspect_ratio": "16:9", "x": -1, "y": 0, "width": 160, "height": 90}),
                (400, "validation"),
                Some("x"),
            )
            .await;
        ok(
            &server,
            &token,
            "PUT",
            &path("/crop"),
            Some(json!({"aspect_ratio": "16:9", "x": 40, "y": 5, "width": 160, "height": 91})),
        )
        .await;
        ok(
            &server,
            &token,
            "PUT",
            &path("/crop"),
            Some(json!({"aspect_ratio": "1:1", "x": 0, "y": 0, "width": 100, "height": 100})),
        )
        .await;
        let crops = image(&server, &token, &id).await["crops"].clone();
        assert_eq!(
            crops,
            json!([
                {"aspect_ratio": "16:9", "x": 40, "y": 5, "width": 160, "height": 91},
                {"aspect_ratio": "1:1", "x": 0, "y": 0, "width": 100, "height": 100},
            ])
        );
        let op = ok(
            &server,
            &token,
            "DELETE",
            &path("/crop"),
            Some(json!({"aspect_ratio": "1:1"})),
        )
        .await;
        assert_eq!(op["result"]["removed"], 1);
        // A quarter turn turns the crop with the image: 16:9 becomes 9:16.
        let r = server
            .patch_json(
                &token,
                &path(""),
                &idempotency_key(),
                &json!({"rotation": 90}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let turned = image(&server, &token, &id).await;
        assert_eq!(
            (turned["width"].as_i64(), turned["height"].as_i64()),
            (Some(100), Some(200))
        );
        assert_eq!(
            turned["crops"],
            json!([{"aspect_ratio": "9:16", "x": 4, "y": 40, "width": 91, "height": 160}])
        );
        let op = ok(&server, &token, "DELETE", &path("/crop"), None).await;
        assert_eq!(op["result"]["removed"], 1);
        assert_eq!(image(&server, &token, &id).await["crops"], json!([]));

        Ok(())
    }
);

both_setups!(
    iptc_metadata_is_partial_and_checked,
    |env: Env| async move {
        let (server, token, id, _) = encore(&env).await;
        let path = |tail: &str| format!("/v1/images/{id}{tail}");

        // IPTC metadata: partial, null clears, unknown keys and wrong types refused.
        ok(&server, &token, "PUT", &path("/metadata"),
        Some(json!({"creator": "Jane Doe", "copyright_marked": true, "city": "Zürich", "country_code": "CH"}))).await;
        ok(
            &server,
            &token,
            "PUT",
            &path("/metadata"),
            Some(json!({"city": null, "headline": "Encore!"})),
        )
        .await;
        assert_eq!(
            image(&server, &token, &id).await["metadata"],
            json!({"creator": "Jane Doe", "copyright_marked": true, "country_code": "CH", "headline": "Encore!"})
        );
        server
            .write_refused(
                "PUT",
                &token,
                &path("/metadata"),
                json!({"photographer": "x"}),
                (400, "validation"),
                Some("photographer"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/metadata"),
                json!({"copyright_marked": "true"}),
                (400, "validation"),
                Some("copyright_marked"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/metadata"),
                json!({"country_code": "Swiss"}),
                (400, "validation"),
                Some("country_code"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/metadata"),
                json!({"contact_email": "jane"}),
                (400, "validation"),
                Some("contact_email"),
            )
            .await;
        server
            .write_refused(
                "PUT",
                &token,
                &path("/metadata"),
                json!({"caption": "x".repeat(2001)}),
                (400, "validation"),
                Some("caption"),
            )
            .await;
        assert_eq!(
            image(&server, &token, &id).await["metadata"]["creator"],
            "Jane Doe"
        );
        Ok(())
    }
);

both_setups!(extraction_profiles_and_roles, |env: Env| async move {
    let (server, token) = env.account_server("fest", &[]).await;
    let bytes = fixtures::jpeg_with_metadata(
        120,
        80,
        &FixtureMeta {
            taken_at: Some("2024:07:14 21:30:05"),
            caption: Some("Marina on the main stage"),
            keywords: &["artist:Marina", "stage:Main"],
            creator: Some("Jane Doe"),
            ..FixtureMeta::default()
        },
    );
    // Uploaded without reading the file: the editable fields stay empty …
    let id = server
        .upload_with(
            &token,
            &json!({"filename": "x.jpg", "read_metadata": false}),
            bytes,
        )
        .await;
    let img = image(&server, &token, &id).await;
    assert_eq!(
        (
            img["description"].as_str(),
            img["keywords"].as_array().map(Vec::len)
        ),
        (Some(""), Some(0))
    );
    // … until extract_metadata copies caption, keywords and date.
    let op = ok(
        &server,
        &token,
        "POST",
        &format!("/v1/images/{id}/extract_metadata"),
        None,
    )
    .await;
    assert_eq!(op["result"]["keywords_added"], 2, "{op}");
    let img = image(&server, &token, &id).await;
    assert_eq!(img["description"], "Marina on the main stage");
    assert_eq!(keyword_list(&img), ["artist:Marina", "stage:Main"]);
    assert!(
        img["creation_date"]
            .as_str()
            .unwrap()
            .starts_with("2024-07-14T21:30:05"),
        "{img}"
    );
    assert_eq!(img["metadata"]["creator"], "Jane Doe");

    // Metadata profiles: made with the CLI, a member's default fills the
    // IPTC fields its uploads leave empty.
    env.user("ed@example.com", "correct horse battery", "fest", "user")
        .await;
    env.cli(&[
        "metadata-profile",
        "save",
        "--account",
        "fest",
        "--name",
        "Press",
        "--field",
        "credit_line=Fest Press",
        "--field",
        "copyright_marked=true",
        "--field",
        "creator=Staff",
    ])
    .await;
    let (code, _, err) = env
        .cli_raw(&[
            "metadata-profile",
            "save",
            "--account",
            "fest",
            "--name",
            "Bad",
            "--field",
            "shoe_size=44",
        ])
        .await;
    assert_eq!(code, 1, "{err}");
    env.cli(&[
        "metadata-profile",
        "default",
        "--account",
        "fest",
        "--user",
        "ed@example.com",
        "--profile",
        "Press",
    ])
    .await;
    let profiles = server.get(&token, "/v1/metadata_profiles").await.json();
    assert_eq!(profiles.as_array().unwrap().len(), 1, "{profiles}");
    assert_eq!(profiles[0]["name"], "Press");
    assert_eq!(
        profiles[0]["fields"],
        json!({"credit_line": "Fest Press", "copyright_marked": true, "creator": "Staff"})
    );
    assert_eq!(profiles[0]["default_for"].as_array().unwrap().len(), 1);
    let ed = server
        .access_token("ed@example.com", "correct horse battery")
        .await;
    let eds = server
        .upload_with(
            &ed,
            &json!({"filename": "ed.jpg"}),
            fixtures::jpeg_with_metadata(
                90,
                60,
                &FixtureMeta {
                    creator: Some("Ed"),
                    ..FixtureMeta::default()
                },
            ),
        )
        .await;
    let meta = image(&server, &ed, &eds).await["metadata"].clone();
    // The file's creator wins; the profile fills the rest.
    assert_eq!(meta["creator"], "Ed");
    assert_eq!(meta["credit_line"], "Fest Press");
    assert_eq!(meta["copyright_marked"], true);
    // The user role edits only what it uploaded.
    ok(
        &server,
        &ed,
        "PUT",
        &format!("/v1/images/{eds}/rating"),
        Some(json!({"rating": 3})),
    )
    .await;
    let r = server
        .write(
            "PUT",
            &ed,
            &format!("/v1/images/{id}/rating"),
            &idempotency_key(),
            Some(&json!({"rating": 3})),
        )
        .await;
    assert_eq!(r.error(403, "forbidden")["detail"], "own_images_only");
    // A service-token upload gets no profile.
    let plain = server
        .upload_with(
            &token,
            &json!({"filename": "p.jpg"}),
            fixtures::jpeg(30, 20),
        )
        .await;
    assert_eq!(image(&server, &token, &plain).await["metadata"], json!({}));
    Ok(())
});

both_setups!(rename_runs_as_a_job, |env: Env| async move {
    let (server, token) = env.account_server("fest", &[]).await;
    let mut ids = Vec::new();
    for n in 0..5u32 {
        let mut kws = vec!["artist:Marina".to_owned()];
        if n == 0 {
            kws.push("artist:Marina Sena".to_owned());
        }
        ids.push(
            server
                .upload_with(
                    &token,
                    &json!({"filename": format!("{n}.jpg"), "keywords": kws}),
                    fixtures::jpeg(20 + n, 20),
                )
                .await,
        );
    }
    // Only some images first.
    let r = server.post(&token, "/v1/keywords/rename", Some(&idempotency_key()),
        &json!({"from": "artist:Marina", "to": "artist:Marina S.", "image_public_uuids": [ids[4]]})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let op = finished(&server, &token, r.json()["uuid"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(
        keyword_list(&image(&server, &token, &ids[4]).await),
        ["artist:Marina S."]
    );
    // Then every image with it; the one that already has the new keyword
    // just loses the old one.
    let r = server
        .post(
            &token,
            "/v1/keywords/rename",
            Some(&idempotency_key()),
            &json!({"from": "artist:Marina", "to": "artist:Marina Sena"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let queued = r.json();
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["result"]["total"], 4);
    let op = finished(&server, &token, queued["uuid"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(
        (
            op["result"]["done"].as_i64(),
            op["result"]["renamed"].as_i64()
        ),
        (Some(4), Some(4)),
        "{op}"
    );
    assert_eq!(
        keyword_list(&image(&server, &token, &ids[0]).await),
        ["artist:Marina Sena"]
    );
    assert_eq!(
        keyword_list(&image(&server, &token, &ids[2]).await),
        ["artist:Marina Sena"]
    );
    let vocab = server.get(&token, "/v1/keywords").await.json();
    assert_eq!(
        vocab,
        json!([
            {"keyword": "artist:Marina S.", "namespace": "artist", "value": "Marina S.", "count": 1},
            {"keyword": "artist:Marina Sena", "namespace": "artist", "value": "Marina Sena", "count": 4},
        ])
    );
    // The search index follows the rename.
    let found = server
        .get(&token, "/v1/images?query=%22marina%20sena%22")
        .await
        .json();
    assert_eq!(found.as_array().unwrap().len(), 4);
    server
        .write_refused(
            "POST",
            &token,
            "/v1/keywords/rename",
            json!({"from": ":", "to": "a"}),
            (400, "validation"),
            Some("from"),
        )
        .await;
    server
        .write_refused(
            "POST",
            &token,
            "/v1/keywords/rename",
            json!({"from": "a", "to": "b", "image_public_uuids": ["nope"]}),
            (400, "validation"),
            Some("image_public_uuids[0]"),
        )
        .await;
    Ok(())
});

both_setups!(batch_is_all_or_nothing, |env: Env| async move {
    let (server, token) = env.account_server("fest", &[]).await;
    let a = server
        .upload_with(
            &token,
            &json!({"filename": "a.jpg"}),
            fixtures::jpeg(40, 30),
        )
        .await;
    let b = server
        .upload_with(
            &token,
            &json!({"filename": "b.jpg"}),
            fixtures::jpeg(41, 30),
        )
        .await;
    let batch = |items: Value| json!({"operations": items});
    // One bad child: nothing is applied.
    let r = server.post(&token, "/v1/operations/batch", Some(&idempotency_key()), &batch(json!([
        {"method": "PUT", "path": format!("/v1/images/{a}/rating"), "body": {"rating": 5}},
        {"method": "POST", "path": format!("/v1/images/{b}/keywords"), "body": {"keywords": ["x"]}},
        {"method": "PUT", "path": format!("/v1/images/{b}/rating"), "body": {"rating": 6}},
    ]))).await;
    let e = r.error(400, "validation");
    assert_eq!(e["field"], "operations[2].body.rating", "{e}");
    assert_eq!(image(&server, &token, &a).await["rating"], 0);
    assert_eq!(image(&server, &token, &b).await["keywords"], json!([]));
    // A child whose image does not exist: nothing is applied either.
    let r = server
        .post(
            &token,
            "/v1/operations/batch",
            Some(&idempotency_key()),
            &batch(json!([
                {"method": "PUT", "path": format!("/v1/images/{a}/rating"), "body": {"rating": 5}},
                {"method": "DELETE", "path": "/v1/images/0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f"},
            ])),
        )
        .await;
    assert_eq!(
        r.error(404, "image_not_found")["field"],
        "operations[1].path"
    );
    assert_eq!(image(&server, &token, &a).await["rating"], 0);
    // 51 writes, an unknown path, a body where none belongs.
    let many: Vec<Value> = (0..51).map(|_| json!({"method": "PUT", "path": format!("/v1/images/{a}/rating"), "body": {"rating": 1}})).collect();
    server
        .write_refused(
            "POST",
            &token,
            "/v1/operations/batch",
            batch(json!(many)),
            (400, "validation"),
            Some("operations"),
        )
        .await;
    server
        .write_refused(
            "POST",
            &token,
            "/v1/operations/batch",
            batch(json!([{"method": "POST", "path": "/v1/uploads", "body": {}}])),
            (400, "validation"),
            Some("operations[0].path"),
        )
        .await;
    server.write_refused("POST", &token, "/v1/operations/batch", batch(json!([{"method": "POST", "path": format!("/v1/images/{a}/extract_metadata"), "body": {"x": 1}}])), (400, "validation"), Some("operations[0].body.x")).await;
    server.write_refused("POST", &token, "/v1/operations/batch", batch(json!([{"method": "PUT", "path": format!("/v1/images/{a}/rating"), "body": {"rating": 2, "stars": 3}}])), (400, "validation"), Some("operations[0].body.stars")).await;
    // Each child is checked against its own scope.
    let rater = env
        .token("fest", "api.images.read,api.ratings.write", &[])
        .await;
    let r = server.post(&rater, "/v1/operations/batch", Some(&idempotency_key()), &batch(json!([
        {"method": "PUT", "path": format!("/v1/images/{a}/rating"), "body": {"rating": 5}},
        {"method": "POST", "path": format!("/v1/images/{a}/keywords"), "body": {"keywords": ["x"]}},
    ]))).await;
    let e = r.error(403, "forbidden");
    assert_eq!(
        (e["field"].as_str(), e["detail"].as_str()),
        (Some("operations[1].path"), Some("api.keywords.write"))
    );
    // A good batch: a summary and one child per item, all applied.
    let body = batch(json!([
        {"method": "PUT", "path": format!("/v1/images/{a}/rating"), "body": {"rating": 5}},
        {"method": "POST", "path": format!("/v1/images/{b}/keywords"), "body": {"keywords": ["stage:Main"]}},
        {"method": "PATCH", "path": format!("/v1/images/{b}"), "body": {"title": "Crowd"}},
        {"method": "PUT", "path": format!("/v1/images/{a}/metadata"), "body": {"creator": "Jane"}},
    ]));
    let k = idempotency_key();
    let r = server
        .post(&token, "/v1/operations/batch", Some(&k), &body)
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let out = r.json();
    assert_eq!(out["summary"]["type"], "batch");
    assert_eq!(out["summary"]["status"], "succeeded");
    let children = out["operations"].as_array().unwrap();
    assert_eq!(children.len(), 4);
    assert!(children.iter().all(|c| c["status"] == "succeeded"), "{out}");
    assert_eq!(children[1]["type"], "keywords.add");
    let child = server
        .get(
            &token,
            &format!("/v1/operations/{}", children[0]["uuid"].as_str().unwrap()),
        )
        .await;
    assert_eq!(child.json()["type"], "rating.update");
    assert_eq!(image(&server, &token, &a).await["rating"], 5);
    assert_eq!(
        image(&server, &token, &a).await["metadata"]["creator"],
        "Jane"
    );
    let bi = image(&server, &token, &b).await;
    assert_eq!(
        (bi["title"].as_str(), keyword_list(&bi)),
        (Some("Crowd"), vec!["stage:Main".to_owned()])
    );
    // The same key and body: the same answer, work done once.
    let again = server
        .post(&token, "/v1/operations/batch", Some(&k), &body)
        .await;
    assert_eq!(again.status, 202, "{}", again.text);
    assert_eq!(again.json()["summary"]["uuid"], out["summary"]["uuid"]);
    assert_eq!(again.json()["operations"].as_array().map(Vec::len), Some(4));
    // As on its own route, extract_metadata takes `{}` or `null` for no body.
    let r = server.post(&token, "/v1/operations/batch", Some(&idempotency_key()), &batch(json!([
        {"method": "POST", "path": format!("/v1/images/{a}/extract_metadata"), "body": {}},
        {"method": "POST", "path": format!("/v1/images/{b}/extract_metadata"), "body": null},
    ]))).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(
        r.json()["operations"][0]["type"],
        "metadata.extract",
        "{}",
        r.text
    );
    Ok(())
});

/// The crafted corpus of the search tests: (name, details, rating).
fn corpus() -> Vec<(&'static str, Value, i64)> {
    vec![
        (
            "A",
            json!({"filename": "IMG_0001.jpg", "title": "Marina encore", "keywords": ["artist:Marina", "stage:Main"], "creation_date": "2024-07-14T21:30:00Z"}),
            3,
        ),
        (
            "B",
            json!({"filename": "crowd.jpg", "title": "Main stage crowd", "description": "sunset over the crowd", "keywords": ["stage:Main"], "creation_date": "2024-07-15T20:00:00Z"}),
            0,
        ),
        (
            "C",
            json!({"filename": "zh.jpg", "title": "Zürich lake", "description": "rehearsal", "keywords": ["city:Zürich"], "creation_date": "2023-01-02"}),
            0,
        ),
        (
            "D",
            json!({"filename": "IMG_0002.jpg", "title": "Backstage", "description": "Marina rehearsal", "keywords": ["artist:Marina"]}),
            5,
        ),
        (
            "E",
            json!({"filename": "e.jpg", "title": "Fireworks", "keywords": ["show"]}),
            1,
        ),
    ]
}

async fn corpus_server(env: &Env) -> (Server, String, BTreeMap<String, &'static str>) {
    let (server, token) = env.account_server("fest", &[]).await;
    let mut names = BTreeMap::new();
    for (n, (name, details, rating)) in corpus().into_iter().enumerate() {
        let id = server
            .upload_with(&token, &details, fixtures::jpeg(30 + n as u32, 20))
            .await;
        if rating > 0 {
            ok(
                &server,
                &token,
                "PUT",
                &format!("/v1/images/{id}/rating"),
                Some(json!({"rating": rating})),
            )
            .await;
        }
        names.insert(id, name);
    }
    (server, token, names)
}

/// The names of the images a list answers, in order.
async fn found(
    server: &Server,
    token: &str,
    names: &BTreeMap<String, &'static str>,
    query: &str,
) -> Vec<&'static str> {
    let r = server.get(token, &format!("/v1/images?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            names
                .get(i["public_uuid"].as_str().unwrap())
                .copied()
                .unwrap_or("?")
        })
        .collect()
}

fn set(v: &[&'static str]) -> BTreeSet<&'static str> {
    v.iter().copied().collect()
}

both_setups!(search_semantics, |env: Env| async move {
    let (server, token, names) = corpus_server(&env).await;
    let q = |text: &str| format!("query={}", urlencode(text));
    let cases: &[(&str, &[&str])] = &[
        ("marina", &["A", "D"]),
        ("+marina -rehearsal", &["A"]),
        ("-rehearsal", &["A", "B", "E"]),
        ("\"main stage\"", &["B"]),
        ("\"stage main\"", &["A", "B"]),
        ("stage:Main", &["A", "B"]),
        ("zurich", &["C"]),
        ("ZÜRICH", &["C"]),
        ("rehears*", &["C", "D"]),
        ("img", &["A", "D"]),
        ("2024-07", &["A", "B"]),
        ("2024-07-14", &["A"]),
        ("fireworks sunset", &["B", "E"]),
        ("+fireworks +sunset", &[]),
        ("nothing-like-this", &[]),
    ];
    for (text, expected) in cases {
        assert_eq!(
            set(&found(&server, &token, &names, &q(text)).await),
            set(expected),
            "{text}"
        );
    }
    // Relevance: a title match outranks a description match.
    assert_eq!(
        found(&server, &token, &names, &q("marina")).await,
        ["A", "D"]
    );
    // Combined with the other filters, and in another order.
    assert_eq!(
        found(
            &server,
            &token,
            &names,
            &format!("{}&min_rating=4", q("marina"))
        )
        .await,
        ["D"]
    );
    assert_eq!(
        found(
            &server,
            &token,
            &names,
            &format!("{}&keyword=stage:Main", q("crowd marina"))
        )
        .await
        .len(),
        2
    );
    assert_eq!(
        found(
            &server,
            &token,
            &names,
            &format!("{}&sort=oldest", q("marina"))
        )
        .await,
        ["A", "D"]
    );
    assert_eq!(
        found(
            &server,
            &token,
            &names,
            &format!("{}&sort=newest&limit=1", q("marina"))
        )
        .await,
        ["D"]
    );
    // Malformed queries are 400, never 500.
    for bad in ["\"unclosed", "*", "+", "mid*dle", "\"\""] {
        let r = server.get(&token, &format!("/v1/images?{}", q(bad))).await;
        assert_eq!(r.error(400, "validation")["field"], "query", "{bad}");
    }
    // A succeeded write is searchable at once.
    let b = names
        .iter()
        .find(|(_, n)| **n == "B")
        .map(|(id, _)| id.clone())
        .unwrap();
    ok(
        &server,
        &token,
        "PATCH",
        &format!("/v1/images/{b}"),
        Some(json!({"title": "Sunrise"})),
    )
    .await;
    assert_eq!(found(&server, &token, &names, &q("sunrise")).await, ["B"]);
    ok(
        &server,
        &token,
        "POST",
        &format!("/v1/images/{b}/keywords"),
        Some(json!({"keywords": ["mood:golden"]})),
    )
    .await;
    assert_eq!(found(&server, &token, &names, &q("golden")).await, ["B"]);
    ok(
        &server,
        &token,
        "PUT",
        &format!("/v1/images/{b}/metadata"),
        Some(json!({"city": "Lausanne"})),
    )
    .await;
    assert_eq!(found(&server, &token, &names, &q("lausanne")).await, ["B"]);
    let c = names
        .iter()
        .find(|(_, n)| **n == "C")
        .map(|(id, _)| id.clone())
        .unwrap();
    let r = server
        .delete(&token, &format!("/v1/images/{c}"), &idempotency_key())
        .await;
    assert_eq!(r.status, 202);
    assert!(
        found(&server, &token, &names, &q("zurich"))
            .await
            .is_empty()
    );
    // Another account never sees these.
    env.account("other").await;
    let other = env.token("other", "all", &[]).await;
    assert!(
        found(&server, &other, &names, &q("marina"))
            .await
            .is_empty()
    );

    // The index survives a restart, and is rebuilt when missing or damaged.
    drop(server);
    let search_dir = env.dir.join("search");
    assert!(search_dir.is_dir(), "{}", search_dir.display());
    let server = env.serve(&[]).await;
    assert_eq!(
        found(&server, &token, &names, &q("marina")).await,
        ["A", "D"]
    );
    drop(server);
    for entry in std::fs::read_dir(&search_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::write(&path, b"garbage").unwrap();
        }
    }
    let server = env.serve(&[]).await;
    assert_eq!(
        found(&server, &token, &names, &q("marina")).await,
        ["A", "D"]
    );
    drop(server);
    std::fs::remove_dir_all(&search_dir).unwrap();
    let (code, _, err) = env.cli_raw(&["reindex"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("search index rebuilt: 4 images"), "{err}");
    let server = env.serve(&[]).await;
    assert_eq!(found(&server, &token, &names, &q("sunrise")).await, ["B"]);
    Ok(())
});

both_setups!(facets_equal_counting_the_list, |env: Env| async move {
    let (server, token, _names) = corpus_server(&env).await;
    let fields =
        "rating,namespace,keyword,keyword:artist,creation_year,creation_month,has_geo,has_video";
    for filter in [
        "",
        "&keyword=stage:Main",
        "&query=marina",
        "&min_rating=1",
        "&creation_date_from=2024-01-01",
    ] {
        let r = server
            .get(&token, &format!("/v1/facets?fields={fields}{filter}"))
            .await;
        assert_eq!(r.status, 200, "{filter}: {}", r.text);
        let facets = r.json();
        let list = server
            .get(&token, &format!("/v1/images?limit=200{filter}"))
            .await
            .json();
        let images = list.as_array().unwrap();
        let mut expected: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        let mut bump = |field: &'static str, value: String| {
            *expected.entry(field).or_default().entry(value).or_default() += 1;
        };
        for i in images {
            bump("rating", i["rating"].to_string());
            bump("has_geo", (!i["geo"].is_null()).to_string());
            bump("has_video", i["is_video"].to_string());
            if let Some(date) = i["creation_date"].as_str() {
                bump("creation_year", date[..4].to_owned());
                bump("creation_month", format!("\"{}\"", &date[..7]));
            }
            let mut namespaces = BTreeSet::new();
            for k in i["keywords"].as_array().unwrap() {
                bump("keyword", k["keyword"].to_string());
                if let Some(ns) = k["namespace"].as_str() {
                    namespaces.insert(ns.to_owned());
                    if ns == "artist" {
                        bump("keyword:artist", k["keyword"].to_string());
                    }
                }
            }
            for ns in namespaces {
                bump("namespace", format!("\"{ns}\""));
            }
        }
        for field in fields.split(',') {
            let got: BTreeMap<String, u64> = facets[field]
                .as_array()
                .unwrap_or_else(|| panic!("{field} missing: {facets}"))
                .iter()
                .filter(|e| e["count"].as_u64() != Some(0))
                .map(|e| (e["value"].to_string(), e["count"].as_u64().unwrap()))
                .collect();
            assert_eq!(
                got,
                expected.get(field).cloned().unwrap_or_default(),
                "{field} with {filter:?}"
            );
        }
    }
    let r = server.get(&token, "/v1/facets?fields=rating,colour").await;
    assert_eq!(r.error(400, "validation")["field"], "fields");
    let default = server.get(&token, "/v1/facets").await.json();
    assert!(
        default["rating"].is_array() && default["has_geo"].is_array(),
        "{default}"
    );
    Ok(())
});

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

both_setups!(
    batches_counting_the_same_keywords_in_other_orders_all_apply,
    |env: Env| async move {
        // Two batches on different images bump the same keyword counts in
        // opposite orders: on PostgreSQL they can deadlock; the victim is run
        // again, so every batch is applied and the counts add up.
        let (server, token) = env.account_server("fest", &[]).await;
        let mut ids = Vec::new();
        for n in 0..4 {
            let details = json!({"filename": format!("{n}.jpg")});
            ids.push(
                server
                    .upload_with(&token, &details, fixtures::jpeg(40 + n, 30))
                    .await,
            );
        }
        let add = |id: &str, word: String| json!({"method": "POST", "path": format!("/v1/images/{id}/keywords"), "body": {"keywords": [word]}});
        let rounds = 12;
        for round in 0..rounds {
            let (alpha, beta) = (format!("alpha{round}"), format!("beta{round}"));
            let forward =
                json!({"operations": [add(&ids[0], alpha.clone()), add(&ids[1], beta.clone())]});
            let backward = json!({"operations": [add(&ids[2], beta), add(&ids[3], alpha)]});
            let (k1, k2) = (idempotency_key(), idempotency_key());
            let (x, y) = tokio::join!(
                server.post(&token, "/v1/operations/batch", Some(&k1), &forward),
                server.post(&token, "/v1/operations/batch", Some(&k2), &backward)
            );
            assert_eq!(x.status, 202, "round {round}: {}", x.text);
            assert_eq!(y.status, 202, "round {round}: {}", y.text);
        }
        let vocabulary = server.get(&token, "/v1/keywords?limit=100").await;
        assert_eq!(vocabulary.status, 200, "{}", vocabulary.text);
        let counts: BTreeMap<String, i64> = vocabulary
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["keyword"].as_str().unwrap().to_owned(),
                    k["count"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(counts.len(), 2 * rounds, "{counts:?}");
        assert!(counts.values().all(|&c| c == 2), "{counts:?}");
        Ok(())
    }
);
