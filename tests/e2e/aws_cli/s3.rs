//! The AWS CLI's `aws s3` and `aws s3api` against the emulator's S3: a bucket made, a 20 MiB
//! file uploaded (the CLI's multipart upload, 8 MiB parts), copied server-side (UploadPartCopy),
//! downloaded byte for byte, a directory synced and listed (ListObjectsV2 with
//! `encoding-type=url`, keys with spaces and plus signs), removed, and S3's errors as the CLI
//! reports them.

use super::*;

/// A fresh directory under the system temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riffle-cli-s3-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_uploads_copies_syncs_and_downloads_through_s3() {
    let (_emulator, cli) = start().await;
    let dir = scratch("files");
    let big: Vec<u8> = (0..20 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let big_path = dir.join("big.bin");
    std::fs::write(&big_path, &big).unwrap();

    let made = cli.s3(&["mb", "s3://cli-bucket"]).await;
    assert!(made.success, "{}", made.stderr);
    let up = cli
        .s3(&["cp", path(&big_path), "s3://cli-bucket/in/big.bin"])
        .await;
    assert!(up.success, "{}", up.stderr);
    let head = cli
        .s3api(&[
            "head-object",
            "--bucket",
            "cli-bucket",
            "--key",
            "in/big.bin",
        ])
        .await
        .json();
    assert_eq!(head["ContentLength"], 20 * 1024 * 1024);
    // 20 MiB in the CLI's 8 MiB parts: a multipart ETag of three parts.
    assert!(str_of(&head, "/ETag").ends_with("-3\""), "{head}");

    let copied = cli
        .s3(&[
            "cp",
            "s3://cli-bucket/in/big.bin",
            "s3://cli-bucket/copy/big.bin",
        ])
        .await;
    assert!(copied.success, "{}", copied.stderr);
    let down_path = dir.join("down.bin");
    let down = cli
        .s3(&["cp", "s3://cli-bucket/copy/big.bin", path(&down_path)])
        .await;
    assert!(down.success, "{}", down.stderr);
    assert!(
        std::fs::read(&down_path).unwrap() == big,
        "the downloaded copy differs from the upload"
    );

    let site = scratch("site");
    std::fs::create_dir_all(site.join("sub dir")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(site.join("sub dir/a+b.txt"), "plus").unwrap();
    let synced = cli
        .s3(&["sync", path(&site), "s3://cli-bucket/site/"])
        .await;
    assert!(synced.success, "{}", synced.stderr);
    // A second sync finds everything in place and uploads nothing.
    let again = cli
        .s3(&["sync", path(&site), "s3://cli-bucket/site/"])
        .await;
    assert!(
        again.success && !again.stdout.contains("upload:"),
        "{}",
        again.stdout
    );
    let listed = cli
        .s3(&["ls", "--recursive", "s3://cli-bucket/site/"])
        .await;
    assert!(listed.success, "{}", listed.stderr);
    assert!(
        listed.stdout.contains("site/index.html"),
        "{}",
        listed.stdout
    );
    assert!(
        listed.stdout.contains("site/sub dir/a+b.txt"),
        "{}",
        listed.stdout
    );
    let top = cli.s3(&["ls", "s3://cli-bucket/"]).await;
    for prefix in ["PRE copy/", "PRE in/", "PRE site/"] {
        assert!(top.stdout.contains(prefix), "{}", top.stdout);
    }
    let buckets = cli.s3(&["ls"]).await;
    assert!(buckets.stdout.contains("cli-bucket"), "{}", buckets.stdout);
    let back = scratch("back");
    let fetched = cli
        .s3(&["sync", "s3://cli-bucket/site/", path(&back)])
        .await;
    assert!(fetched.success, "{}", fetched.stderr);
    assert_eq!(
        std::fs::read_to_string(back.join("sub dir/a+b.txt")).unwrap(),
        "plus"
    );

    let removed = cli.s3(&["rm", "--recursive", "s3://cli-bucket/"]).await;
    assert!(removed.success, "{}", removed.stderr);
    let gone = cli.s3(&["rb", "s3://cli-bucket"]).await;
    assert!(gone.success, "{}", gone.stderr);
    for d in [dir, site, back] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_reports_s3s_error_codes() {
    let (_emulator, cli) = start().await;
    let missing = cli
        .s3api(&["head-bucket", "--bucket", "no-such-bucket"])
        .await
        .failure();
    assert!(missing.contains("404"), "{missing}");
    let made = cli
        .s3api(&["create-bucket", "--bucket", "errs-bucket"])
        .await;
    assert!(made.success, "{}", made.stderr);
    let out = std::env::temp_dir().join(format!("riffle-cli-s3-{}-out", std::process::id()));
    let no_key = cli
        .s3api(&[
            "get-object",
            "--bucket",
            "errs-bucket",
            "--key",
            "nope",
            path(&out),
        ])
        .await
        .failure();
    assert!(no_key.contains("NoSuchKey"), "{no_key}");
    let bad_name = cli
        .s3api(&["create-bucket", "--bucket", "Bad_Name"])
        .await
        .failure();
    assert!(
        bad_name.contains("InvalidBucketName") || bad_name.contains("Invalid bucket name"),
        "{bad_name}"
    );
    std::fs::write(&out, b"body").unwrap();
    let put = cli
        .s3api(&[
            "put-object",
            "--bucket",
            "errs-bucket",
            "--key",
            "k",
            "--body",
            path(&out),
        ])
        .await;
    assert!(put.success, "{}", put.stderr);
    let not_empty = cli
        .s3api(&["delete-bucket", "--bucket", "errs-bucket"])
        .await
        .failure();
    assert!(not_empty.contains("BucketNotEmpty"), "{not_empty}");
    let _ = std::fs::remove_file(out);
}
