//! Multipart uploads: `uploads/<id>/upload.json` (bucket, key, headers, when initiated), each
//! part as `<n>.part` with its `<n>.json`, and completion that concatenates the parts into one
//! object committed as a PutObject is.
//!
//! Invariants: a part is visible once its metadata is renamed into place (so a re-uploaded part
//! replaces the old one whole); completion opens every named part under the lock, so the object
//! is exactly the parts the request named, even if one is uploaded again meanwhile; the upload
//! disappears only once the object is committed; the ETag is S3's, the MD5 of the parts' MD5s
//! followed by `-<parts>`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::{Bucket, NewObject, ObjectMeta, Store, StoredHeaders, WriteCondition, bucket};
use crate::clock::Millis;
use crate::s3::error::{S3Code, S3Error};

/// S3's smallest part, except the last.
pub(crate) const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct UploadFile {
    bucket: String,
    key: String,
    initiated: Millis,
    headers: StoredHeaders,
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartMeta {
    pub number: u32,
    pub size: u64,
    /// Quoted, as S3 writes it.
    pub etag: String,
    pub modified: Millis,
    /// The part's MD5 (its ETag's bytes), for the object's ETag.
    pub md5: [u8; 16],
}

#[derive(Debug)]
pub(super) struct Upload {
    pub(super) bucket: String,
    key: String,
    initiated: Millis,
    headers: StoredHeaders,
    parts: BTreeMap<u32, PartMeta>,
}

/// An upload as ListMultipartUploads shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadInfo {
    pub key: String,
    pub id: String,
    pub initiated: Millis,
}

/// Loads the uploads under `dir` whose bucket exists, removing the rest and stray files.
pub(super) fn recover(
    dir: &Path,
    buckets: &BTreeMap<String, Bucket>,
) -> io::Result<BTreeMap<String, Upload>> {
    let mut uploads = BTreeMap::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let id = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let file = fs::read(path.join("upload.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<UploadFile>(&bytes).ok());
        let Some(file) = file.filter(|f| buckets.contains_key(&f.bucket)) else {
            fs::remove_dir_all(&path)?;
            continue;
        };
        let mut parts = BTreeMap::new();
        for part in fs::read_dir(&path)? {
            let part = part?.path();
            let name = part.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if let Some(number) = name
                .strip_suffix(".json")
                .and_then(|n| n.parse::<u32>().ok())
            {
                let meta: PartMeta =
                    serde_json::from_slice(&fs::read(&part)?).map_err(io::Error::other)?;
                parts.insert(number, meta);
            }
        }
        uploads.insert(
            id,
            Upload {
                bucket: file.bucket,
                key: file.key,
                initiated: file.initiated,
                headers: file.headers,
                parts,
            },
        );
    }
    Ok(uploads)
}

impl Store {
    fn upload_dir(&self, id: &str) -> std::path::PathBuf {
        self.root.join("uploads").join(id)
    }

    /// Starts an upload of `key`; its id.
    pub(crate) fn create_upload(
        &self,
        bucket_name: &str,
        key: &str,
        headers: StoredHeaders,
        now: Millis,
    ) -> Result<String, S3Error> {
        let mut random = [0u8; 24];
        let _ = getrandom::fill(&mut random);
        let id: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let mut index = self.lock();
        bucket(&index, bucket_name)?;
        let file = UploadFile {
            bucket: bucket_name.to_owned(),
            key: key.to_owned(),
            initiated: now,
            headers,
        };
        let dir = self.upload_dir(&id);
        fs::create_dir_all(&dir)?;
        let bytes = serde_json::to_vec(&file).map_err(io::Error::other)?;
        self.write_atomic(&dir.join("upload.json"), &bytes)?;
        index.uploads.insert(
            id.clone(),
            Upload {
                bucket: file.bucket,
                key: file.key,
                initiated: now,
                headers: file.headers,
                parts: BTreeMap::new(),
            },
        );
        Ok(id)
    }

    fn upload<'a>(
        index: &'a mut super::Index,
        id: &str,
        bucket_name: &str,
        key: &str,
    ) -> Result<&'a mut Upload, S3Error> {
        bucket(index, bucket_name)?;
        index
            .uploads
            .get_mut(id)
            .filter(|u| u.bucket == bucket_name && u.key == key)
            .ok_or_else(|| S3Error::no_such_upload(id))
    }

    /// Stores part `number` received at `temp`; its metadata.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put_part(
        &self,
        id: &str,
        bucket_name: &str,
        key: &str,
        number: u32,
        temp: &Path,
        size: u64,
        md5: [u8; 16],
        now: Millis,
    ) -> Result<PartMeta, S3Error> {
        let result = (|| {
            if self.durable {
                File::open(temp)?.sync_all()?;
            }
            let mut index = self.lock();
            let upload = Self::upload(&mut index, id, bucket_name, key)?;
            let dir = self.upload_dir(id);
            let meta = PartMeta {
                number,
                size,
                etag: format!("\"{}\"", hex(&md5)),
                modified: now,
                md5,
            };
            // A fresh data file per attempt, so an open completion keeps reading the old one.
            let data = dir.join(format!("{number}.{}.part", self.fresh_id()));
            fs::rename(temp, &data)?;
            let sidecar = serde_json::to_vec(&PartFile {
                meta: meta.clone(),
                data: data
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .into(),
            })
            .map_err(io::Error::other)?;
            self.write_atomic(&dir.join(format!("{number}.json")), &sidecar)?;
            let old = upload.parts.insert(number, meta.clone());
            drop(index);
            if old.is_some() {
                remove_stale_parts(&dir, number, &data);
            }
            Ok(meta)
        })();
        if result.is_err() {
            let _ = fs::remove_file(temp);
        }
        result
    }

    /// The upload's parts from `after`, in order.
    pub(crate) fn parts(
        &self,
        id: &str,
        bucket_name: &str,
        key: &str,
    ) -> Result<Vec<PartMeta>, S3Error> {
        let mut index = self.lock();
        let upload = Self::upload(&mut index, id, bucket_name, key)?;
        Ok(upload.parts.values().cloned().collect())
    }

    /// The bucket's uploads in progress, by key then initiation.
    pub(crate) fn uploads(&self, bucket_name: &str) -> Result<Vec<UploadInfo>, S3Error> {
        let index = self.lock();
        bucket(&index, bucket_name)?;
        let mut uploads: Vec<UploadInfo> = index
            .uploads
            .iter()
            .filter(|(_, u)| u.bucket == bucket_name)
            .map(|(id, u)| UploadInfo {
                key: u.key.clone(),
                id: id.clone(),
                initiated: u.initiated,
            })
            .collect();
        uploads.sort_by(|a, b| (&a.key, a.initiated).cmp(&(&b.key, b.initiated)));
        Ok(uploads)
    }

    /// Aborts an upload, removing its parts.
    pub(crate) fn abort(&self, id: &str, bucket_name: &str, key: &str) -> Result<(), S3Error> {
        let mut index = self.lock();
        Self::upload(&mut index, id, bucket_name, key)?;
        index.uploads.remove(id);
        let dir = self.upload_dir(id);
        // Removing upload.json is the commit point; recovery removes the rest.
        fs::remove_file(dir.join("upload.json"))?;
        drop(index);
        fs::remove_dir_all(dir)?;
        Ok(())
    }

    /// Completes an upload from the named parts (ascending, each but the last at least 5 MiB,
    /// ETags matching): the object, committed.
    pub(crate) fn complete(
        &self,
        id: &str,
        bucket_name: &str,
        key: &str,
        named: &[(u32, String)],
        now: Millis,
    ) -> Result<Arc<ObjectMeta>, S3Error> {
        if named.is_empty() {
            return Err(S3Error::malformed_xml());
        }
        if named.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(S3Error::new(S3Code::InvalidPartOrder).with("UploadId", id));
        }
        let (files, metas, headers) = {
            let mut index = self.lock();
            let upload = Self::upload(&mut index, id, bucket_name, key)?;
            let dir = self.upload_dir(id);
            let mut files = Vec::with_capacity(named.len());
            let mut metas = Vec::with_capacity(named.len());
            for (i, (number, etag)) in named.iter().enumerate() {
                let part = upload
                    .parts
                    .get(number)
                    .filter(|p| super::etag_matches(etag, &p.etag))
                    .ok_or_else(|| {
                        S3Error::new(S3Code::InvalidPart)
                            .with("UploadId", id)
                            .with("PartNumber", number.to_string())
                            .with("ETag", etag.clone())
                    })?;
                if i + 1 < named.len() && part.size < MIN_PART_BYTES {
                    return Err(S3Error::new(S3Code::EntityTooSmall)
                        .with("ProposedSize", part.size.to_string())
                        .with("MinSizeAllowed", MIN_PART_BYTES.to_string())
                        .with("PartNumber", number.to_string())
                        .with("ETag", part.etag.clone()));
                }
                let sidecar: PartFile =
                    serde_json::from_slice(&fs::read(dir.join(format!("{number}.json")))?)
                        .map_err(io::Error::other)?;
                files.push(File::open(dir.join(sidecar.data))?);
                metas.push(part.clone());
            }
            (files, metas, upload.headers.clone())
        };
        let temp = self.temp_path();
        let mut out = File::create(&temp)?;
        let mut size = 0;
        let mut digest = Md5::new();
        for (mut file, meta) in files.into_iter().zip(&metas) {
            size += io::copy(&mut file, &mut out)?;
            digest.update(meta.md5);
        }
        out.flush()?;
        drop(out);
        let object = NewObject {
            key: key.to_owned(),
            size,
            etag: format!("\"{}-{}\"", hex(&digest.finalize()), metas.len()),
            headers,
            parts: Some(metas.len() as u32),
        };
        // The upload may have been aborted or completed by another request meanwhile.
        if Self::upload(&mut self.lock(), id, bucket_name, key).is_err() {
            let _ = fs::remove_file(&temp);
            return Err(S3Error::no_such_upload(id));
        }
        let meta = self.commit(bucket_name, object, &temp, &WriteCondition::default(), now)?;
        let mut index = self.lock();
        index.uploads.remove(id);
        let dir = self.upload_dir(id);
        let _ = fs::remove_file(dir.join("upload.json"));
        drop(index);
        let _ = fs::remove_dir_all(dir);
        Ok(meta)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PartFile {
    #[serde(flatten)]
    meta: PartMeta,
    data: String,
}

/// Removes part `number`'s data files other than `keep` (an earlier upload of the same part).
fn remove_stale_parts(dir: &Path, number: u32, keep: &Path) {
    let prefix = format!("{number}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".part") && path != keep {
            let _ = fs::remove_file(path);
        }
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads all of `file`.
#[cfg(test)]
pub(crate) fn read_all(mut file: File) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    io::Read::read_to_end(&mut file, &mut out)?;
    Ok(out)
}
