//! The S3 API through `S3::handle`, as the HTTP server calls it.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, Uri};
use axum::response::Response;

use super::S3;
use crate::clock::ManualClock;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

fn service(region: &str) -> S3 {
    let clock = Arc::new(ManualClock::new(1_764_806_400_000));
    S3::open(None, clock, region, "000000000000").unwrap()
}

async fn call(s3: &S3, method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut map = HeaderMap::new();
    map.insert("host", "127.0.0.1:4566".parse().unwrap());
    for (name, value) in headers {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let uri: Uri = uri.parse().unwrap();
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let response: Response = s3
        .handle(method, &uri, &map, Body::from(body.to_vec()), "req")
        .await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

#[tokio::test]
async fn put_then_get_whole_ranged_and_conditional() {
    let s3 = service("us-east-1");
    assert_eq!(
        call(&s3, "PUT", "/logs", &[], b"").await.status,
        StatusCode::OK
    );
    let put = call(
        &s3,
        "PUT",
        "/logs/dir/a%20b.txt",
        &[("content-type", "text/plain"), ("x-amz-meta-owner", "me")],
        b"hello world",
    )
    .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.headers["etag"], "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");

    let get = call(&s3, "GET", "/logs/dir/a%20b.txt", &[], b"").await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.body, "hello world");
    assert_eq!(get.headers["content-type"], "text/plain");
    assert_eq!(get.headers["x-amz-meta-owner"], "me");
    assert_eq!(get.headers["content-length"], "11");
    assert_eq!(
        get.headers["last-modified"],
        "Thu, 04 Dec 2025 00:00:00 GMT"
    );
    assert!(get.headers.contains_key("x-amz-request-id"));

    let ranged = call(
        &s3,
        "GET",
        "/logs/dir/a%20b.txt",
        &[("range", "bytes=6-")],
        b"",
    )
    .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.body, "world");
    assert_eq!(ranged.headers["content-range"], "bytes 6-10/11");
    let suffix = call(
        &s3,
        "GET",
        "/logs/dir/a%20b.txt",
        &[("range", "bytes=-3")],
        b"",
    )
    .await;
    assert_eq!(suffix.body, "rld");
    let beyond = call(
        &s3,
        "GET",
        "/logs/dir/a%20b.txt",
        &[("range", "bytes=11-20")],
        b"",
    )
    .await;
    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert!(beyond.body.contains("<Code>InvalidRange</Code>"));
    assert!(
        beyond
            .body
            .contains("<ActualObjectSize>11</ActualObjectSize>")
    );

    let etag = "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"";
    let unchanged = call(
        &s3,
        "GET",
        "/logs/dir/a%20b.txt",
        &[("if-none-match", etag)],
        b"",
    )
    .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    let failed = call(
        &s3,
        "GET",
        "/logs/dir/a%20b.txt",
        &[("if-match", "\"other\"")],
        b"",
    )
    .await;
    assert_eq!(failed.status, StatusCode::PRECONDITION_FAILED);

    let head = call(&s3, "HEAD", "/logs/dir/a%20b.txt", &[], b"").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.headers["content-length"], "11");
    assert!(head.body.is_empty());
    let missing = call(&s3, "HEAD", "/logs/nope", &[], b"").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.is_empty());
    let missing = call(&s3, "GET", "/logs/nope", &[], b"").await;
    assert!(missing.body.contains("<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>nope</Key>"), "{}", missing.body);
    let no_bucket = call(&s3, "PUT", "/other/k", &[], b"x").await;
    assert_eq!(no_bucket.status, StatusCode::NOT_FOUND);
    assert!(no_bucket.body.contains("<Code>NoSuchBucket</Code>"));
}

#[tokio::test]
async fn listing_pages_through_keys_and_common_prefixes_once_each() {
    let s3 = service("us-east-1");
    call(&s3, "PUT", "/bkt", &[], b"").await;
    for key in ["a/1", "a/2", "b", "c/x/1", "c/y", "d e+f"] {
        assert_eq!(
            call(
                &s3,
                "PUT",
                &format!("/bkt/{}", key.replace(' ', "%20").replace('+', "%2B")),
                &[],
                b"x"
            )
            .await
            .status,
            StatusCode::OK
        );
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let uri = match &token {
            None => "/bkt?list-type=2&delimiter=/&max-keys=2&encoding-type=url".to_owned(),
            Some(t) => format!(
                "/bkt?list-type=2&delimiter=/&max-keys=2&encoding-type=url&continuation-token={}",
                super::list::url_encode(t)
                    .replace('/', "%2F")
                    .replace('+', "%2B")
                    .replace('=', "%3D")
            ),
        };
        let page = call(&s3, "GET", &uri, &[], b"").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for part in page.body.split("<Key>").skip(1) {
            seen.push(part.split("</Key>").next().unwrap().to_owned());
        }
        for part in page.body.split("<CommonPrefixes><Prefix>").skip(1) {
            seen.push(part.split("</Prefix>").next().unwrap().to_owned());
        }
        assert!(
            page.body.contains("<KeyCount>2</KeyCount>")
                || page.body.contains("<IsTruncated>false</IsTruncated>")
        );
        match page.body.split("<NextContinuationToken>").nth(1) {
            Some(rest) => {
                token = Some(
                    rest.split("</NextContinuationToken>")
                        .next()
                        .unwrap()
                        .to_owned(),
                )
            }
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b", "c/", "d+e%2Bf"]);

    let v1 = call(&s3, "GET", "/bkt?prefix=c/&delimiter=/", &[], b"").await;
    assert!(v1.body.contains("<Key>c/y</Key>"), "{}", v1.body);
    assert!(
        v1.body
            .contains("<CommonPrefixes><Prefix>c/x/</Prefix></CommonPrefixes>")
    );
    assert!(v1.body.contains("<Owner><ID>"));
    let bad = call(&s3, "GET", "/bkt?list-type=2&max-keys=lots", &[], b"").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("<Code>InvalidArgument</Code>"));
}

#[tokio::test]
async fn copy_delete_objects_and_bucket_rules() {
    let s3 = service("us-east-1");
    call(&s3, "PUT", "/bkt", &[], b"").await;
    // Re-creating one's own bucket in us-east-1 succeeds, as S3's legacy region answers.
    assert_eq!(
        call(&s3, "PUT", "/bkt", &[], b"").await.status,
        StatusCode::OK
    );
    let constrained = call(&s3, "PUT", "/ccc", &[], b"<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>").await;
    assert!(
        constrained
            .body
            .contains("<Code>InvalidLocationConstraint</Code>"),
        "{}",
        constrained.body
    );
    let invalid = call(&s3, "PUT", "/Bad_Name", &[], b"").await;
    assert!(invalid.body.contains("<Code>InvalidBucketName</Code>"));

    call(
        &s3,
        "PUT",
        "/bkt/src",
        &[("content-type", "text/csv")],
        b"data",
    )
    .await;
    let copy = call(
        &s3,
        "PUT",
        "/bkt/dst",
        &[("x-amz-copy-source", "/bkt/src")],
        b"",
    )
    .await;
    assert_eq!(copy.status, StatusCode::OK, "{}", copy.body);
    assert!(copy.body.contains("<CopyObjectResult"), "{}", copy.body);
    assert!(
        copy.body
            .contains("<ETag>\"8d777f385d3dfec8815d20f7496026dc\"</ETag>"),
        "{}",
        copy.body
    );
    let copied = call(&s3, "GET", "/bkt/dst", &[], b"").await;
    assert_eq!(
        (
            copied.body.as_str(),
            copied.headers["content-type"].to_str().unwrap()
        ),
        ("data", "text/csv")
    );
    let onto_itself = call(
        &s3,
        "PUT",
        "/bkt/src",
        &[("x-amz-copy-source", "bkt/src")],
        b"",
    )
    .await;
    assert!(onto_itself.body.contains("<Code>InvalidRequest</Code>"));

    let full = call(&s3, "DELETE", "/bkt", &[], b"").await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert!(full.body.contains("<Code>BucketNotEmpty</Code>"));
    let deleted = call(&s3, "POST", "/bkt?delete", &[], b"<Delete><Object><Key>src</Key></Object><Object><Key>dst</Key></Object><Object><Key>never</Key></Object></Delete>").await;
    assert_eq!(
        deleted.body.matches("<Deleted>").count(),
        3,
        "{}",
        deleted.body
    );
    assert_eq!(
        call(&s3, "DELETE", "/bkt", &[], b"").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&s3, "HEAD", "/bkt", &[], b"").await.status,
        StatusCode::NOT_FOUND
    );
    let unsupported = call(&s3, "GET", "/ccc?policy", &[], b"").await;
    assert_eq!(unsupported.status, StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn outside_us_east_1_a_bucket_needs_its_region_and_exists_once() {
    let s3 = service("eu-west-1");
    let unconstrained = call(&s3, "PUT", "/bkt", &[], b"").await;
    assert!(
        unconstrained
            .body
            .contains("<Code>IllegalLocationConstraintException</Code>"),
        "{}",
        unconstrained.body
    );
    let body = b"<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>";
    assert_eq!(
        call(&s3, "PUT", "/bkt", &[], body).await.status,
        StatusCode::OK
    );
    let again = call(&s3, "PUT", "/bkt", &[], body).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("<Code>BucketAlreadyOwnedByYou</Code>"));
    let location = call(&s3, "GET", "/bkt?location", &[], b"").await;
    assert!(
        location.body.contains(">eu-west-1</LocationConstraint>"),
        "{}",
        location.body
    );
    assert_eq!(
        call(&s3, "HEAD", "/bkt", &[], b"").await.headers["x-amz-bucket-region"],
        "eu-west-1"
    );
}

#[tokio::test]
async fn a_multipart_upload_through_the_api() {
    let s3 = service("us-east-1");
    call(&s3, "PUT", "/bkt", &[], b"").await;
    let created = call(
        &s3,
        "POST",
        "/bkt/big?uploads",
        &[("content-type", "application/gzip")],
        b"",
    )
    .await;
    let id = created
        .body
        .split("<UploadId>")
        .nth(1)
        .expect(&created.body)
        .split("</UploadId>")
        .next()
        .unwrap()
        .to_owned();
    let part = vec![b'a'; 5 * 1024 * 1024];
    let one = call(
        &s3,
        "PUT",
        &format!("/bkt/big?partNumber=1&uploadId={id}"),
        &[],
        &part,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    // A part copied from an object's range.
    call(&s3, "PUT", "/bkt/src", &[], b"0123456789").await;
    let two = call(
        &s3,
        "PUT",
        &format!("/bkt/big?partNumber=2&uploadId={id}"),
        &[
            ("x-amz-copy-source", "bkt/src"),
            ("x-amz-copy-source-range", "bytes=2-4"),
        ],
        b"",
    )
    .await;
    assert!(two.body.contains("<CopyPartResult"), "{}", two.body);
    let bad_number = call(
        &s3,
        "PUT",
        &format!("/bkt/big?partNumber=10001&uploadId={id}"),
        &[],
        b"x",
    )
    .await;
    assert!(bad_number.body.contains("<Code>InvalidArgument</Code>"));
    let listed = call(&s3, "GET", &format!("/bkt/big?uploadId={id}"), &[], b"").await;
    assert_eq!(listed.body.matches("<Part>").count(), 2, "{}", listed.body);
    let e1 = one.headers["etag"].to_str().unwrap().to_owned();
    let e2 = two
        .body
        .split("<ETag>")
        .nth(1)
        .unwrap()
        .split("</ETag>")
        .next()
        .unwrap()
        .replace("&quot;", "\"");
    let complete = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{e1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{e2}</ETag></Part></CompleteMultipartUpload>"
    );
    let done = call(
        &s3,
        "POST",
        &format!("/bkt/big?uploadId={id}"),
        &[],
        complete.as_bytes(),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("-2&quot;</ETag>") || done.body.contains("-2\"</ETag>"),
        "{}",
        done.body
    );
    let got = call(&s3, "GET", "/bkt/big", &[("range", "bytes=5242878-")], b"").await;
    assert_eq!(got.body, "aa234");
    assert_eq!(
        call(&s3, "HEAD", "/bkt/big", &[], b"").await.headers["content-type"],
        "application/gzip"
    );
    let gone = call(&s3, "DELETE", &format!("/bkt/big?uploadId={id}"), &[], b"").await;
    assert!(gone.body.contains("<Code>NoSuchUpload</Code>"));
}

#[tokio::test]
async fn list_buckets_names_every_bucket() {
    let s3 = service("us-east-1");
    call(&s3, "PUT", "/zeta", &[], b"").await;
    call(&s3, "PUT", "/alpha", &[], b"").await;
    let listed = call(&s3, "GET", "/", &[], b"").await;
    assert!(
        listed.body.contains("<ListAllMyBucketsResult"),
        "{}",
        listed.body
    );
    let alpha = listed.body.find("<Name>alpha</Name>").unwrap();
    let zeta = listed.body.find("<Name>zeta</Name>").unwrap();
    assert!(alpha < zeta);
    assert!(
        listed
            .body
            .contains("<CreationDate>2025-12-04T00:00:00.000Z</CreationDate>")
    );
}

#[tokio::test]
async fn virtual_hosted_addressing_names_the_bucket_in_the_host() {
    let s3 = service("us-east-1");
    call(&s3, "PUT", "/vhb", &[], b"").await;
    let mut map = HeaderMap::new();
    map.insert("host", "vhb.localhost:4566".parse().unwrap());
    let response = s3
        .handle(
            Method::PUT,
            &"/k".parse().unwrap(),
            &map,
            Body::from("v"),
            "r",
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(call(&s3, "GET", "/vhb/k", &[], b"").await.body, "v");
}
