//! Mapping configuration pieces every kind of mapping shares: the raw shapes of destinations and
//! filter criteria with AWS's names, and the errors validation reports.
//!
//! Invariant: validation reports every invalid property at once, worded as AWS words it
//! (`ValidationException` constraint messages for ranges and enums, `InvalidParameterValueException`
//! for semantic rules); a validated configuration that exists is valid.

use serde::Deserialize;

/// `DestinationConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawDestinationConfig {
    /// `OnFailure`.
    pub on_failure: Option<RawDestination>,
    /// `OnSuccess` (not accepted for event source mappings).
    pub on_success: Option<RawDestination>,
}

/// A destination.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawDestination {
    /// Destination ARN.
    pub destination: Option<String>,
}

/// `FilterCriteria`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawFilterCriteria {
    /// Filters, ORed.
    pub filters: Option<Vec<RawFilter>>,
}

/// One filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawFilter {
    /// EventBridge-style pattern, as a JSON string.
    pub pattern: Option<String>,
}

/// Which AWS error a configuration problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A constraint of the API model (range, enum, required).
    Validation,
    /// A semantic rule (`InvalidParameterValueException`).
    InvalidParameterValue,
}

/// One invalid property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// AWS's property name, e.g. `ParallelizationFactor`.
    pub property: &'static str,
    /// Which AWS error it is.
    pub kind: ConfigErrorKind,
    /// AWS's message for it.
    pub message: String,
}

/// Every invalid property of a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let constraints: Vec<&str> = self
            .0
            .iter()
            .filter(|e| e.kind == ConfigErrorKind::Validation)
            .map(|e| e.message.as_str())
            .collect();
        let mut parts = Vec::new();
        if !constraints.is_empty() {
            let n = constraints.len();
            parts.push(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                constraints.join("; ")
            ));
        }
        parts.extend(
            self.0
                .iter()
                .filter(|e| e.kind == ConfigErrorKind::InvalidParameterValue)
                .map(|e| e.message.clone()),
        );
        f.write_str(&parts.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

/// Gathers a mapping's configuration errors in the order they are found, worded as AWS words
/// them.
pub(crate) struct Collector(pub(crate) Vec<ConfigError>);

impl Collector {
    pub(crate) fn constraint(
        &mut self,
        property: &'static str,
        value: impl std::fmt::Display,
        rule: &str,
    ) {
        let member = lower_first(property);
        self.0.push(ConfigError {
            property,
            kind: ConfigErrorKind::Validation,
            message: format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
            ),
        });
    }

    pub(crate) fn missing(&mut self, property: &'static str) {
        let member = lower_first(property);
        self.0.push(ConfigError {
            property,
            kind: ConfigErrorKind::Validation,
            message: format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ),
        });
    }

    pub(crate) fn range(
        &mut self,
        property: &'static str,
        value: Option<i64>,
        min: i64,
        max: i64,
        default: i64,
    ) -> i64 {
        let Some(value) = value else { return default };
        if value < min {
            self.constraint(
                property,
                value,
                &format!("have value greater than or equal to {min}"),
            );
        } else if value > max {
            self.constraint(
                property,
                value,
                &format!("have value less than or equal to {max}"),
            );
        }
        value.clamp(min, max)
    }

    pub(crate) fn invalid(&mut self, property: &'static str, message: impl Into<String>) {
        self.0.push(ConfigError {
            property,
            kind: ConfigErrorKind::InvalidParameterValue,
            message: message.into(),
        });
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_lowercase().to_string() + chars.as_str()
    })
}
