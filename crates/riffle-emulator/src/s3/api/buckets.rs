//! Bucket operations: ListBuckets, CreateBucket (with S3's location-constraint rules),
//! HeadBucket, DeleteBucket, GetBucketLocation and GetBucketVersioning.
//!
//! Invariant: a bucket name is checked with S3's rules before anything is created, and
//! re-creating a bucket one already owns answers as S3 does in the emulator's region (200 in
//! us-east-1, `BucketAlreadyOwnedByYou` elsewhere).

use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Request, S3, iso, xml_response};
use crate::s3::error::{S3Code, S3Error};
use crate::s3::xml::{self, NAMESPACE};

/// Largest CreateBucket body read.
const MAX_CONFIGURATION_BYTES: usize = 64 * 1024;

impl S3 {
    pub(super) fn list_buckets(&self) -> Result<Response, S3Error> {
        let buckets = self
            .store
            .buckets()
            .into_iter()
            .map(|b| xml::BucketEntry {
                name: b.name,
                creation_date: iso(b.created),
                bucket_region: b.region,
            })
            .collect();
        Ok(xml_response(&xml::ListAllMyBuckets {
            xmlns: NAMESPACE,
            owner: self.owner(),
            buckets: xml::Buckets { bucket: buckets },
        }))
    }

    pub(super) async fn create_bucket(
        &self,
        request: &Request<'_>,
        body: Body,
    ) -> Result<Response, S3Error> {
        let name = request.bucket().to_owned();
        if let Some(reason) = riffle_core::destination::bucket_name_refusal(&name) {
            return Err(S3Error::new(S3Code::InvalidBucketName)
                .message(reason)
                .with("BucketName", name));
        }
        let body = to_bytes(body, MAX_CONFIGURATION_BYTES)
            .await
            .map_err(|_| S3Error::malformed_xml())?;
        let constraint = if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let configuration: xml::CreateBucketConfiguration =
                xml::parse(&body).ok_or_else(S3Error::malformed_xml)?;
            configuration.location_constraint.filter(|c| !c.is_empty())
        };
        self.check_constraint(constraint.as_deref())?;
        let region = self.region.clone();
        let now = self.now();
        let created = self
            .blocking({
                let name = name.clone();
                move |store| Ok(store.create_bucket(&name, &region, now)?)
            })
            .await?;
        if !created && self.region != "us-east-1" {
            return Err(S3Error::new(S3Code::BucketAlreadyOwnedByYou).with("BucketName", name));
        }
        let mut response = StatusCode::OK.into_response();
        if let Ok(location) = HeaderValue::from_str(&format!("/{name}")) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Ok(response)
    }

    /// S3's rules: in us-east-1 a constraint must be absent (`us-east-1` itself is invalid);
    /// elsewhere it must name the region the request was sent to.
    fn check_constraint(&self, constraint: Option<&str>) -> Result<(), S3Error> {
        match (self.region.as_str(), constraint) {
            ("us-east-1", None) => Ok(()),
            ("us-east-1", Some(c)) => {
                Err(S3Error::new(S3Code::InvalidLocationConstraint).with("LocationConstraint", c))
            }
            (_, None) => Err(S3Error::new(S3Code::IllegalLocationConstraintException)),
            (region, Some(c)) if c == region => Ok(()),
            (_, Some(c)) => Err(
                S3Error::new(S3Code::IllegalLocationConstraintException).message(format!(
                    "The {c} location constraint is incompatible for the region specific \
                     endpoint this request was sent to."
                )),
            ),
        }
    }

    pub(super) fn head_bucket(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let region = self.store.bucket_region(request.bucket())?;
        let mut response = StatusCode::OK.into_response();
        if let Ok(region) = HeaderValue::from_str(&region) {
            response.headers_mut().insert("x-amz-bucket-region", region);
        }
        response.headers_mut().insert(
            "x-amz-access-point-alias",
            HeaderValue::from_static("false"),
        );
        Ok(response)
    }

    pub(super) async fn delete_bucket(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let name = request.bucket().to_owned();
        self.blocking(move |store| store.delete_bucket(&name))
            .await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    pub(super) fn bucket_location(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let region = self.store.bucket_region(request.bucket())?;
        Ok(xml_response(&xml::Location {
            xmlns: NAMESPACE,
            region: if region == "us-east-1" {
                String::new()
            } else {
                region
            },
        }))
    }

    pub(super) fn bucket_versioning(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        self.store.bucket_region(request.bucket())?;
        Ok(xml_response(&xml::Versioning { xmlns: NAMESPACE }))
    }
}
