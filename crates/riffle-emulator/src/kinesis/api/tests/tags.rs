use std::collections::BTreeMap;

use serde_json::json;

use super::Fixture;
use crate::error::ErrorCode;
use crate::kinesis::Action;

#[test]
fn tags_are_added_listed_in_key_order_and_removed() {
    let f = Fixture::with_stream("s", 1);
    f.ok(
        Action::AddTagsToStream,
        r#"{"StreamName":"s","Tags":{"b":"2","a":"1","c":""}}"#,
    );
    assert_eq!(
        f.ok(Action::ListTagsForStream, r#"{"StreamName":"s","Limit":2}"#),
        json!({
            "Tags": [{ "Key": "a", "Value": "1" }, { "Key": "b", "Value": "2" }],
            "HasMoreTags": true,
        })
    );
    f.ok(
        Action::RemoveTagsFromStream,
        r#"{"StreamName":"s","TagKeys":["a"]}"#,
    );
    assert_eq!(
        f.ok(
            Action::ListTagsForStream,
            r#"{"StreamName":"s","ExclusiveStartTagKey":"b"}"#
        ),
        json!({ "Tags": [{ "Key": "c", "Value": "" }], "HasMoreTags": false })
    );
}

#[test]
fn tag_requests_are_refused_in_awss_words() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(
            Action::RemoveTagsFromStream,
            r#"{"StreamName":"s","TagKeys":[]}"#,
            ErrorCode::ValidationException
        ),
        "1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy \
         constraint: Member must have length greater than or equal to 1"
    );
    let tags: BTreeMap<String, String> =
        (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    let body = json!({ "StreamName": "s", "Tags": tags }).to_string();
    assert_eq!(
        f.refused(
            Action::AddTagsToStream,
            &body,
            ErrorCode::InvalidArgumentException
        ),
        "Failed to add tags to stream s under account 000000000000 because a given stream cannot \
         have more than 10 tags associated with it."
    );
}

#[test]
fn tag_keys_to_remove_are_refused_for_the_characters_aws_refuses() {
    let f = Fixture::with_stream("s", 1);
    for key in ["abc;def", "abc\\tdef", "abc\\ndef", "abc,def"] {
        assert_eq!(
            f.refused(
                Action::RemoveTagsFromStream,
                &format!(r#"{{"StreamName":"s","TagKeys":["{key}"]}}"#),
                ErrorCode::InvalidArgumentException
            ),
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, \
             white space, _ . / = + - % @.",
            "{key}"
        );
    }
    assert_eq!(
        f.refused(
            Action::RemoveTagsFromStream,
            r#"{"StreamName":"s","TagKeys":["abc%def"]}"#,
            ErrorCode::InvalidArgumentException
        ),
        "Failed to remove tags from stream s under account 000000000000 because some tags \
         contained illegal characters. The allowed characters are Unicode letters, \
         white-spaces, '_',',','/','=','+','-','@'."
    );
    f.ok(
        Action::RemoveTagsFromStream,
        r#"{"StreamName":"s","TagKeys":["ü0 _./=+-@"]}"#,
    );
}
