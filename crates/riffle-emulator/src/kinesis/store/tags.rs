//! A stream's tags as AddTagsToStream and RemoveTagsFromStream change them: the characters AWS
//! accepts in tag keys and values, and the limit of tags per stream.
//!
//! Invariants: a stream never holds more than [`MAX_TAGS_PER_STREAM`] tags; a refused request
//! changes no tag.

use std::collections::BTreeMap;

use super::Stream;
use crate::error::{ApiError, ApiResult};

/// Tags a stream may carry.
pub(crate) const MAX_TAGS_PER_STREAM: usize = 50;

/// Adds (or overwrites) `tags` on `stream`, in AWS's words when a text holds a character AWS
/// refuses or the stream would carry too many tags.
pub(super) fn add(
    stream: &mut Stream,
    account: &str,
    tags: BTreeMap<String, String>,
) -> ApiResult<()> {
    let texts = tags.iter().flat_map(|(k, v)| [k, v]);
    check_characters(texts, "add tags to", &stream.name, account)?;
    let added = tags
        .keys()
        .filter(|k| !stream.tags.contains_key(*k))
        .count();
    if stream.tags.len() + added > MAX_TAGS_PER_STREAM {
        // AWS's recorded words (kinesalite's addTagsToStream.js, functionality) say 10 while
        // its limit was already 50 (the recording adds 45 tags first); today's wording is not
        // known, so the recording's stands.
        return Err(ApiError::invalid_argument(format!(
            "Failed to add tags to stream {} under account {account} because a given stream \
             cannot have more than 10 tags associated with it.",
            stream.name
        )));
    }
    stream.tags.extend(tags);
    Ok(())
}

/// Removes the tags `keys` name from `stream` (keys it does not carry are ignored, as AWS does),
/// after the same character checks as [`add`], worded for removing.
pub(super) fn remove(stream: &mut Stream, account: &str, keys: Vec<String>) -> ApiResult<()> {
    check_characters(keys.iter(), "remove tags from", &stream.name, account)?;
    for key in keys {
        stream.tags.remove(&key);
    }
    Ok(())
}

/// AWS's refusal of tag keys and values outside Unicode letters, digits, spaces and
/// `_ . / = + - @` (`%` passes the first check and fails a second, worded differently;
/// `verb` is "add tags to" or "remove tags from", as the second message says).
fn check_characters<'a>(
    texts: impl Iterator<Item = &'a String> + Clone,
    verb: &str,
    stream: &str,
    account: &str,
) -> ApiResult<()> {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || "_./=+-@% ".contains(c)
            || ('\u{C0}'..='\u{1FFF}').contains(&c)
            || ('\u{2C00}'..='\u{D7FF}').contains(&c)
    };
    if texts.clone().any(|t| !t.chars().all(allowed)) {
        return Err(ApiError::invalid_argument(
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, \
             white space, _ . / = + - % @.",
        ));
    }
    if texts.clone().any(|t| t.contains('%')) {
        return Err(ApiError::invalid_argument(format!(
            "Failed to {verb} stream {stream} under account {account} because some tags \
             contained illegal characters. The allowed characters are Unicode letters, \
             white-spaces, '_',',','/','=','+','-','@'."
        )));
    }
    Ok(())
}
