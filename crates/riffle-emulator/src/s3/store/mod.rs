//! The S3 store: buckets and objects as files under one root (`<data-dir>/s3`, or a temporary
//! directory without `--data-dir`), with an in-memory index of every object's metadata.
//!
//! Layout: `buckets/<bucket>/bucket.json` (its presence is the bucket),
//! `buckets/<bucket>/meta/<sha256(key)>.json` (one object's metadata, naming its data file),
//! `data/<id>` (object bodies, never changed once written), `tmp/` (bodies being received), and
//! `uploads/<id>/` (multipart uploads, see [`multipart`]).
//!
//! Invariants: an object is committed by renaming its metadata file into place, after its data
//! file is in `data/` (and, with a data directory, both are `fsync`ed): a crash at any point
//! leaves either the old object or the new one, never half of one; the index changes under the
//! same lock as the rename, so it always says what the disk says; a data file is deleted only
//! after no metadata names it, and a reader opens its file under the lock, so a concurrent
//! overwrite or delete never cuts a read short. On open, data and temporary files no metadata
//! names (the leftovers of a crash) are removed.

mod multipart;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{S3Code, S3Error};
use crate::clock::Millis;

pub(crate) use multipart::hex;
#[cfg(test)]
use multipart::{MIN_PART_BYTES, PartMeta};

/// The headers S3 stores with an object and returns with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    /// `x-amz-meta-*`, names lowercased without the prefix, in request order.
    pub metadata: Vec<(String, String)>,
}

/// One object's metadata, as its sidecar file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    pub key: String,
    /// The data file's name under `data/`.
    pub data: String,
    pub size: u64,
    /// The ETag, quoted as S3 writes it.
    pub etag: String,
    pub modified: Millis,
    pub headers: StoredHeaders,
    /// Parts, for an object a multipart upload made.
    pub parts: Option<u32>,
}

/// A new object's metadata before it is stored.
#[derive(Debug, Clone)]
pub(crate) struct NewObject {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub headers: StoredHeaders,
    pub parts: Option<u32>,
}

/// A condition on an object write (`If-None-Match: *`, `If-Match: <etag>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WriteCondition {
    /// The key must not exist.
    pub absent: bool,
    /// The key must exist with this ETag.
    pub etag: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BucketFile {
    created: Millis,
    region: String,
}

#[derive(Debug)]
struct Bucket {
    created: Millis,
    region: String,
    objects: BTreeMap<String, Arc<ObjectMeta>>,
}

#[derive(Debug, Default)]
struct Index {
    buckets: BTreeMap<String, Bucket>,
    uploads: BTreeMap<String, multipart::Upload>,
}

/// A bucket as ListBuckets shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BucketInfo {
    pub name: String,
    pub created: Millis,
    pub region: String,
}

/// The S3 store.
#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    durable: bool,
    index: Mutex<Index>,
    ids: AtomicU64,
    run: String,
    _temp: Option<tempfile::TempDir>,
}

impl Store {
    /// Opens (or creates) the store under `dir`, durable; without one, in a temporary
    /// directory removed when the store is dropped.
    pub(crate) fn open(dir: Option<&Path>) -> io::Result<Self> {
        let (root, temp, durable) = match dir {
            Some(dir) => (dir.to_path_buf(), None, true),
            None => {
                let temp = tempfile::Builder::new().prefix("riffle-s3-").tempdir()?;
                (temp.path().to_path_buf(), Some(temp), false)
            }
        };
        for sub in ["buckets", "data", "tmp", "uploads"] {
            fs::create_dir_all(root.join(sub))?;
        }
        let mut run = [0u8; 6];
        let _ = getrandom::fill(&mut run);
        let store = Self {
            run: run.iter().map(|b| format!("{b:02x}")).collect(),
            root,
            durable,
            index: Mutex::new(Index::default()),
            ids: AtomicU64::new(0),
            _temp: temp,
        };
        store.recover()?;
        Ok(store)
    }

    fn recover(&self) -> io::Result<()> {
        let mut index = Index::default();
        let mut referenced = std::collections::HashSet::new();
        for entry in fs::read_dir(self.root.join("buckets"))? {
            let dir = entry?.path();
            let Ok(file) = fs::read(dir.join("bucket.json")) else {
                // A bucket whose creation never committed, or whose deletion did not finish.
                fs::remove_dir_all(&dir)?;
                continue;
            };
            let file: BucketFile = serde_json::from_slice(&file).map_err(io::Error::other)?;
            let mut objects = BTreeMap::new();
            let meta_dir = dir.join("meta");
            fs::create_dir_all(&meta_dir)?;
            for meta in fs::read_dir(&meta_dir)? {
                let path = meta?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    let meta: ObjectMeta =
                        serde_json::from_slice(&fs::read(&path)?).map_err(io::Error::other)?;
                    referenced.insert(meta.data.clone());
                    objects.insert(meta.key.clone(), Arc::new(meta));
                } else {
                    fs::remove_file(&path)?;
                }
            }
            let name = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            index.buckets.insert(
                name,
                Bucket {
                    created: file.created,
                    region: file.region,
                    objects,
                },
            );
        }
        for entry in fs::read_dir(self.root.join("data"))? {
            let entry = entry?;
            let name = entry.file_name();
            if !referenced.contains(name.to_string_lossy().as_ref()) {
                fs::remove_file(entry.path())?;
            }
        }
        for entry in fs::read_dir(self.root.join("tmp"))? {
            fs::remove_file(entry?.path())?;
        }
        index.uploads = multipart::recover(&self.root.join("uploads"), &index.buckets)?;
        *self.lock() = index;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:012}", self.run)
    }

    /// A fresh path in `tmp/` to receive a body into.
    pub(crate) fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(self.fresh_id())
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join("buckets").join(bucket)
    }

    fn meta_path(&self, bucket: &str, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.bucket_dir(bucket)
            .join("meta")
            .join(format!("{name}.json"))
    }

    /// Writes `bytes` to `path` through a temporary sibling renamed into place.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let temp = path.with_extension("tmp");
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        if self.durable {
            file.sync_all()?;
        }
        fs::rename(&temp, path)?;
        self.sync_dir(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        if self.durable
            && let Some(parent) = path.parent()
        {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    }

    /// Creates a bucket; `Ok(false)` if it exists already (it is ours: every bucket is).
    pub(crate) fn create_bucket(&self, name: &str, region: &str, now: Millis) -> io::Result<bool> {
        let mut index = self.lock();
        if index.buckets.contains_key(name) {
            return Ok(false);
        }
        let dir = self.bucket_dir(name);
        fs::create_dir_all(dir.join("meta"))?;
        let file = BucketFile {
            created: now,
            region: region.to_owned(),
        };
        let bytes = serde_json::to_vec(&file).map_err(io::Error::other)?;
        self.write_atomic(&dir.join("bucket.json"), &bytes)?;
        index.buckets.insert(
            name.to_owned(),
            Bucket {
                created: now,
                region: region.to_owned(),
                objects: BTreeMap::new(),
            },
        );
        Ok(true)
    }

    /// The bucket's region, or NoSuchBucket.
    pub(crate) fn bucket_region(&self, name: &str) -> Result<String, S3Error> {
        let index = self.lock();
        let bucket = bucket(&index, name)?;
        Ok(bucket.region.clone())
    }

    /// Every bucket, by name.
    pub(crate) fn buckets(&self) -> Vec<BucketInfo> {
        self.lock()
            .buckets
            .iter()
            .map(|(name, b)| BucketInfo {
                name: name.clone(),
                created: b.created,
                region: b.region.clone(),
            })
            .collect()
    }

    /// Deletes an empty bucket (aborting its multipart uploads).
    pub(crate) fn delete_bucket(&self, name: &str) -> Result<(), S3Error> {
        let mut index = self.lock();
        if !bucket(&index, name)?.objects.is_empty() {
            return Err(S3Error::new(S3Code::BucketNotEmpty).with("BucketName", name));
        }
        let dir = self.bucket_dir(name);
        // Removing bucket.json is the commit point; recovery removes a half-deleted rest.
        fs::remove_file(dir.join("bucket.json"))?;
        self.sync_dir(&dir)?;
        index.buckets.remove(name);
        let uploads: Vec<String> = index
            .uploads
            .iter()
            .filter(|(_, u)| u.bucket == name)
            .map(|(id, _)| id.clone())
            .collect();
        for id in uploads {
            index.uploads.remove(&id);
            let _ = fs::remove_dir_all(self.root.join("uploads").join(&id));
        }
        drop(index);
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    /// Stores `object` with the body received at `temp`: the new object replaces any object of
    /// the key once this returns.
    pub(crate) fn commit(
        &self,
        bucket_name: &str,
        object: NewObject,
        temp: &Path,
        condition: &WriteCondition,
        now: Millis,
    ) -> Result<Arc<ObjectMeta>, S3Error> {
        let result = self.commit_inner(bucket_name, object, temp, condition, now);
        if result.is_err() {
            let _ = fs::remove_file(temp);
        }
        result
    }

    fn commit_inner(
        &self,
        bucket_name: &str,
        object: NewObject,
        temp: &Path,
        condition: &WriteCondition,
        now: Millis,
    ) -> Result<Arc<ObjectMeta>, S3Error> {
        if self.durable {
            File::open(temp)?.sync_all()?;
        }
        let id = self.fresh_id();
        let data = self.root.join("data").join(&id);
        let meta = Arc::new(ObjectMeta {
            key: object.key,
            data: id,
            size: object.size,
            etag: object.etag,
            modified: now,
            headers: object.headers,
            parts: object.parts,
        });
        let sidecar = serde_json::to_vec(&*meta).map_err(io::Error::other)?;
        let mut index = self.lock();
        let bucket = bucket_mut(&mut index, bucket_name)?;
        let current = bucket.objects.get(&meta.key);
        if condition.absent && current.is_some() {
            return Err(S3Error::new(S3Code::PreconditionFailed).with("Condition", "If-None-Match"));
        }
        if let Some(etag) = &condition.etag
            && current.is_none_or(|c| !etag_matches(etag, &c.etag))
        {
            if current.is_none() {
                return Err(S3Error::no_such_key(&meta.key));
            }
            return Err(S3Error::new(S3Code::PreconditionFailed).with("Condition", "If-Match"));
        }
        fs::rename(temp, &data)?;
        self.sync_dir(&data)?;
        let path = self.meta_path(bucket_name, &meta.key);
        if let Err(error) = self.write_atomic(&path, &sidecar) {
            let _ = fs::remove_file(&data);
            return Err(error.into());
        }
        let old = bucket.objects.insert(meta.key.clone(), Arc::clone(&meta));
        drop(index);
        if let Some(old) = old {
            let _ = fs::remove_file(self.root.join("data").join(&old.data));
        }
        Ok(meta)
    }

    /// An object's metadata.
    pub(crate) fn head(&self, bucket_name: &str, key: &str) -> Result<Arc<ObjectMeta>, S3Error> {
        let index = self.lock();
        bucket(&index, bucket_name)?
            .objects
            .get(key)
            .cloned()
            .ok_or_else(|| S3Error::no_such_key(key))
    }

    /// An object's metadata and its data file, opened under the lock.
    pub(crate) fn open_object(
        &self,
        bucket_name: &str,
        key: &str,
    ) -> Result<(Arc<ObjectMeta>, File), S3Error> {
        let index = self.lock();
        let meta = bucket(&index, bucket_name)?
            .objects
            .get(key)
            .cloned()
            .ok_or_else(|| S3Error::no_such_key(key))?;
        let file = File::open(self.root.join("data").join(&meta.data))?;
        Ok((meta, file))
    }

    /// A hard link (or, across devices, a copy) of an object's data at a fresh temporary
    /// path, for CopyObject: data files never change, so the link is the object as it is now.
    pub(crate) fn snapshot(
        &self,
        bucket_name: &str,
        key: &str,
    ) -> Result<(Arc<ObjectMeta>, PathBuf), S3Error> {
        let (meta, mut file) = self.open_object(bucket_name, key)?;
        let temp = self.temp_path();
        let source = self.root.join("data").join(&meta.data);
        if fs::hard_link(&source, &temp).is_err() {
            let mut out = File::create(&temp)?;
            io::copy(&mut file, &mut out)?;
        }
        Ok((meta, temp))
    }

    /// Deletes an object (no error if there is none, as S3 answers).
    pub(crate) fn delete_object(&self, bucket_name: &str, key: &str) -> Result<(), S3Error> {
        let mut index = self.lock();
        let bucket = bucket_mut(&mut index, bucket_name)?;
        let Some(old) = bucket.objects.get(key).cloned() else {
            return Ok(());
        };
        let path = self.meta_path(bucket_name, key);
        fs::remove_file(&path)?;
        self.sync_dir(&path)?;
        bucket.objects.remove(key);
        drop(index);
        let _ = fs::remove_file(self.root.join("data").join(&old.data));
        Ok(())
    }

    /// Runs `f` over the bucket's objects, in key order, under the lock.
    pub(crate) fn with_objects<R>(
        &self,
        bucket_name: &str,
        f: impl FnOnce(&BTreeMap<String, Arc<ObjectMeta>>) -> R,
    ) -> Result<R, S3Error> {
        let index = self.lock();
        Ok(f(&bucket(&index, bucket_name)?.objects))
    }
}

fn bucket<'a>(index: &'a Index, name: &str) -> Result<&'a Bucket, S3Error> {
    index
        .buckets
        .get(name)
        .ok_or_else(|| S3Error::no_such_bucket(name))
}

fn bucket_mut<'a>(index: &'a mut Index, name: &str) -> Result<&'a mut Bucket, S3Error> {
    index
        .buckets
        .get_mut(name)
        .ok_or_else(|| S3Error::no_such_bucket(name))
}

/// Whether an `If-Match`-style condition (a list of ETags, quoted or not, or `*`) names `etag`.
pub(crate) fn etag_matches(condition: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    condition
        .split(',')
        .map(|c| c.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|c| c == "*" || c == bare)
}

#[cfg(test)]
mod tests;
