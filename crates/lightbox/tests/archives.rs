//! ZIP archives over real HTTP: a job with progress, entries checked one by
//! one against the originals by an independent reader (Python's zipfile),
//! safe and unique entry names, the signed shareable link, the list, the
//! rules on bad input, and expiry deleting the archive — on SQLite with the
//! folder blob store and on PostgreSQL with a real S3-compatible server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_media::fixtures;
use lightbox_testkit::{
    Env, both_setups, eventually, finished_operation as finished, idempotency_key, sha256_hex,
};
use serde_json::json;

/// Names and SHA-256 of every entry, read by Python's zipfile (which also
/// checks each entry's CRC-32).
fn read_zip(bytes: &[u8]) -> Vec<(String, String)> {
    let path = lightbox_testkit::scratch_dir("archive").join("archive.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import hashlib, json, sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             assert z.testzip() is None\n\
             print(json.dumps([[i.filename, hashlib.sha256(z.read(i)).hexdigest(), i.compress_type] for i in z.infolist()]))",
        )
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<(String, String, i64)> = serde_json::from_slice(&out.stdout).unwrap();
    for (name, _, method) in &entries {
        assert_eq!(*method, 0, "{name} is not stored");
    }
    entries.into_iter().map(|(n, h, _)| (n, h)).collect()
}

both_setups!(archive_entries_match_the_originals, |env: Env| async move {
    let account = env.account("arch").await;
    let token = env
        .token(&account, "api.images.read,api.upload,api.download", &[])
        .await;
    let reader = env.token(&account, "api.images.read", &[]).await;
    let server = env.serve(&[]).await;

    // Same name twice, the same name in other case, unicode, a PNG. (Path
    // parts never get this far: uploads refuse them; the ZIP writer's own
    // tests cover `../` and `C:\`.)
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("stage.jpg", fixtures::jpeg(64, 48)),
        ("stage.jpg", fixtures::jpeg(65, 48)),
        ("STAGE.JPG", fixtures::jpeg(66, 48)),
        ("Zürich.jpg", fixtures::jpeg(67, 48)),
        ("logo.png", fixtures::png(32, 32)),
    ];
    let mut ids = Vec::new();
    let mut hashes = Vec::new();
    for (name, bytes) in &files {
        hashes.push(sha256_hex(bytes));
        ids.push(server.upload(&token, name, bytes.clone()).await);
    }

    // Bad input: refused, nothing queued.
    for (body, status, code, field) in [
        (
            json!({"image_public_uuids": []}),
            400,
            "validation",
            "image_public_uuids",
        ),
        (
            json!({"image_public_uuids": [ids[0], "x"]}),
            400,
            "validation",
            "image_public_uuids[1]",
        ),
        (
            json!({"image_public_uuids": [ids[0]], "filename": "a/b"}),
            400,
            "validation",
            "filename",
        ),
        (
            json!({"image_public_uuids": [ids[0], "00000000-0000-4000-8000-000000000009"]}),
            404,
            "image_not_found",
            "image_public_uuids[1]",
        ),
        (
            json!({"image_public_uuids": [ids[0]], "version_profile_uuid": "00000000-0000-4000-8000-000000000009"}),
            404,
            "not_found",
            "version_profile_uuid",
        ),
    ] {
        let r = server
            .write(
                "POST",
                &token,
                "/v1/archives",
                &idempotency_key(),
                Some(&body),
            )
            .await;
        assert_eq!(r.error(status, code)["field"], field, "{body}");
    }
    let too_many: Vec<String> = (0..10_001)
        .map(|n| format!("00000000-0000-4000-8000-{n:012}"))
        .collect();
    let r = server
        .write(
            "POST",
            &token,
            "/v1/archives",
            &idempotency_key(),
            Some(&json!({"image_public_uuids": too_many})),
        )
        .await;
    assert_eq!(r.error(400, "validation")["field"], "image_public_uuids");
    // Without api.download: 403 naming the scope.
    let r = server
        .write(
            "POST",
            &reader,
            "/v1/archives",
            &idempotency_key(),
            Some(&json!({"image_public_uuids": [ids[0]]})),
        )
        .await;
    assert_eq!(r.error(403, "forbidden")["detail"], "api.download");

    let r = server
        .write(
            "POST",
            &token,
            "/v1/archives",
            &idempotency_key(),
            Some(&json!({"image_public_uuids": ids, "filename": "Press kit"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let op = r.json();
    assert_eq!(op["status"], "queued");
    assert_eq!(op["result"]["total"], 5);
    let op = finished(&server, &token, op["uuid"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(
        (
            op["result"]["done"].as_i64(),
            op["result"]["total"].as_i64()
        ),
        (Some(5), Some(5))
    );
    let archive = &op["result"]["archive"];
    assert_eq!(archive["filename"], "Press kit.zip");
    assert_eq!(archive["image_count"], 5);

    // The link serves the ZIP; its entries are the originals, byte for byte.
    let url = archive["url"].as_str().unwrap();
    let got = server.http.get(url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let disposition = got
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(disposition.contains("Press kit.zip"), "{disposition}");
    let bytes = got.bytes().await.unwrap();
    assert_eq!(bytes.len() as i64, archive["bytes"].as_i64().unwrap());
    let entries = read_zip(&bytes);
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "stage.jpg",
            "stage (2).jpg",
            "STAGE (3).JPG",
            "Zürich.jpg",
            "logo.png"
        ]
    );
    for (entry, hash) in entries.iter().zip(&hashes) {
        assert_eq!(&entry.1, hash, "{}", entry.0);
    }
    // A Range of it.
    let part = server
        .http
        .get(url)
        .header("Range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(&part.bytes().await.unwrap()[..], b"PK\x03\x04");
    // A tampered link is refused.
    let tampered = format!("{}x", url);
    assert_eq!(
        server.http.get(&tampered).send().await.unwrap().status(),
        403
    );

    // Listed with its link, size, count and expiry (7 days).
    let list = server.get(&token, "/v1/archives").await;
    assert_eq!(list.status, 200, "{}", list.text);
    let list = list.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["uuid"], archive["uuid"]);
    assert_eq!(list[0]["bytes"], archive["bytes"]);
    assert!(list[0]["url"].as_str().unwrap().starts_with("http"));
    assert_eq!(
        server
            .get(&reader, "/v1/archives")
            .await
            .error(403, "forbidden")["detail"],
        "api.download"
    );
    Ok(())
});

both_setups!(expired_archives_are_deleted, |env: Env| async move {
    let account = env.account("exp").await;
    let token = env
        .token(&account, "api.images.read,api.upload,api.download", &[])
        .await;
    // Archives kept 2 seconds here.
    let server = env.serve(&["--archive-lifetime", "2s"]).await;
    let id = server.upload(&token, "a.jpg", fixtures::jpeg(50, 40)).await;
    let r = server
        .write(
            "POST",
            &token,
            "/v1/archives",
            &idempotency_key(),
            Some(&json!({"image_public_uuids": [id]})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let op = finished(&server, &token, r.json()["uuid"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    let url = op["result"]["archive"]["url"].as_str().unwrap().to_owned();
    assert_eq!(env.blob_keys("archives/").await.len(), 1);
    // Gone from the list and the link at the instant; the blob once the job ran.
    let gone = eventually(30, || async {
        let list = server.get(&token, "/v1/archives").await.json();
        let keys = env.blob_keys("archives/").await;
        (list.as_array().map(Vec::len) == Some(0) && keys.is_empty()).then_some(())
    })
    .await;
    assert!(gone.is_some(), "the expired archive was not deleted");
    let status = server
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert!(status == 403 || status == 404, "{status}");
    Ok(())
});
