//! A changed template against the running one: what can be applied while the mappings run
//! (what UpdateEventSourceMapping may change) and what needs a restart of `riffle local`.
//!
//! Invariant: only a template that reads without errors is compared; a Kinesis mapping is
//! changed through its controller's `update` (the UpdateEventSourceMapping path: shard tasks
//! stop and resume from their checkpoints), an SQS mapping only by `set_enabled`; everything
//! else that differs is reported, by resource, and left as it runs.

use riffle_core::kinesis::config::KinesisMappingConfig;
use riffle_core::sqs::config::SqsMappingConfig;
use riffle_template::{Application, MappingConfig};

use super::super::run::Running;

/// What a template edit changes.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Plan {
    /// Kinesis mappings to update, with the settings that change (AWS's names).
    pub(crate) kinesis: Vec<(String, KinesisMappingConfig, Vec<&'static str>)>,
    /// SQS mappings to enable or disable.
    pub(crate) sqs_enabled: Vec<(String, bool)>,
    /// What differs but cannot change while running: `Resource (why)`.
    pub(crate) needs_restart: Vec<String>,
}

/// Compares the application running (`old`) with the edited template's (`new`).
pub(crate) fn plan(old: &Application, new: &Application) -> Plan {
    let mut plan = Plan::default();
    // Resources compare without where they are declared.
    macro_rules! compare {
        ($field:ident) => {
            resources(
                &mut plan,
                &old.$field,
                &new.$field,
                |r| &r.logical_id,
                |r| {
                    let mut r = r.clone();
                    r.location = None;
                    r
                },
            )
        };
    }
    compare!(streams);
    compare!(consumers);
    compare!(queues);
    compare!(buckets);
    compare!(delivery_streams);
    compare!(functions);
    for mapping in &new.mappings {
        let Some(before) = old
            .mappings
            .iter()
            .find(|m| m.logical_id == mapping.logical_id)
        else {
            plan.needs_restart
                .push(format!("{} (added)", mapping.logical_id));
            continue;
        };
        let id = mapping.logical_id.clone();
        match (&before.config, &mapping.config) {
            (MappingConfig::Kinesis(a), MappingConfig::Kinesis(b)) => {
                let fixed = kinesis_fixed(a, b);
                if !fixed.is_empty() {
                    plan.needs_restart
                        .push(format!("{id} ({} changed)", fixed.join(", ")));
                } else if a != b {
                    plan.kinesis.push((id, b.clone(), kinesis_changes(a, b)));
                }
            }
            (MappingConfig::Sqs(a), MappingConfig::Sqs(b)) => {
                let fixed = sqs_fixed(a, b);
                if !fixed.is_empty() {
                    plan.needs_restart
                        .push(format!("{id} ({} changed)", fixed.join(", ")));
                } else if a.enabled != b.enabled {
                    plan.sqs_enabled.push((id, b.enabled));
                }
            }
            _ => plan.needs_restart.push(format!("{id} (source changed)")),
        }
    }
    for mapping in &old.mappings {
        if !new
            .mappings
            .iter()
            .any(|m| m.logical_id == mapping.logical_id)
        {
            plan.needs_restart
                .push(format!("{} (removed)", mapping.logical_id));
        }
    }
    plan
}

/// Resources of one type added, removed or changed (`bare` drops what does not matter, such as
/// where the resource is declared).
fn resources<T, K: PartialEq>(
    plan: &mut Plan,
    old: &[T],
    new: &[T],
    id: impl Fn(&T) -> &String,
    bare: impl Fn(&T) -> K,
) {
    for resource in new {
        match old.iter().find(|o| id(o) == id(resource)) {
            None => plan.needs_restart.push(format!("{} (added)", id(resource))),
            Some(before) if bare(before) != bare(resource) => {
                plan.needs_restart
                    .push(format!("{} (changed)", id(resource)));
            }
            Some(_) => {}
        }
    }
    for resource in old {
        if !new.iter().any(|n| id(n) == id(resource)) {
            plan.needs_restart
                .push(format!("{} (removed)", id(resource)));
        }
    }
}

/// The names of the settings whose fields differ between `a` and `b`.
macro_rules! differing {
    ($a:expr, $b:expr; $($field:ident => $name:literal),* $(,)?) => {{
        let mut names: Vec<&'static str> = Vec::new();
        $(if $a.$field != $b.$field {
            names.push($name);
        })*
        names
    }};
}

/// What UpdateEventSourceMapping cannot change on a Kinesis mapping, or riffle cannot while it
/// runs (the function is the invoker it was started with).
fn kinesis_fixed(a: &KinesisMappingConfig, b: &KinesisMappingConfig) -> Vec<&'static str> {
    differing!(a, b;
        event_source_arn => "EventSourceArn",
        function_name => "FunctionName",
        starting_position => "StartingPosition",
    )
}

/// The settings of a Kinesis mapping that differ, by AWS's names.
fn kinesis_changes(a: &KinesisMappingConfig, b: &KinesisMappingConfig) -> Vec<&'static str> {
    differing!(a, b;
        enabled => "Enabled",
        batch_size => "BatchSize",
        batching_window_ms => "MaximumBatchingWindowInSeconds",
        parallelization_factor => "ParallelizationFactor",
        bisect_on_function_error => "BisectBatchOnFunctionError",
        maximum_retry_attempts => "MaximumRetryAttempts",
        maximum_record_age_ms => "MaximumRecordAgeInSeconds",
        tumbling_window_ms => "TumblingWindowInSeconds",
        on_failure_destination => "DestinationConfig",
        report_batch_item_failures => "FunctionResponseTypes",
        filter_patterns => "FilterCriteria",
    )
}

/// What differs on an SQS mapping besides `Enabled`: its pollers take their settings at start.
fn sqs_fixed(a: &SqsMappingConfig, b: &SqsMappingConfig) -> Vec<&'static str> {
    differing!(a, b;
        event_source_arn => "EventSourceArn",
        function_name => "FunctionName",
        batch_size => "BatchSize",
        batching_window_ms => "MaximumBatchingWindowInSeconds",
        report_batch_item_failures => "FunctionResponseTypes",
        filter_patterns => "FilterCriteria",
        maximum_concurrency => "ScalingConfig",
    )
}

/// Applies `plan` to the running mappings; what was applied (`Mapping: Setting, …`) and what
/// failed.
pub(crate) async fn apply(plan: &Plan, running: &Running) -> (Vec<String>, Vec<String>) {
    let (mut applied, mut failed) = (Vec::new(), Vec::new());
    for (id, config, changes) in &plan.kinesis {
        let Some((_, controller)) = running.kinesis.iter().find(|(m, _)| m == id) else {
            continue;
        };
        match controller.update(config.clone()).await {
            Ok(()) => applied.push(format!("{id}: {}", changes.join(", "))),
            Err(error) => failed.push(format!("{id}: {error}")),
        }
    }
    for (id, enabled) in &plan.sqs_enabled {
        let Some((_, controller)) = running.queues.iter().find(|(m, _)| m == id) else {
            continue;
        };
        controller.set_enabled(*enabled).await.ok();
        applied.push(format!("{id}: Enabled"));
    }
    (applied, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(batch_size: u32, queue_enabled: bool, extra: &str) -> Application {
        let yaml = include_str!("testdata/edited.yaml")
            .replace("{batch_size}", &batch_size.to_string())
            .replace("{queue_enabled}", &queue_enabled.to_string())
            .replace("{extra}", extra);
        let options = riffle_template::Options::new("template.yaml", 1_700_000_000_000);
        riffle_template::read(&yaml, &options)
            .unwrap_or_else(|e| panic!("{e}"))
            .application
    }

    #[test]
    fn mapping_settings_apply_and_new_resources_need_a_restart() {
        let old = app(10, true, "");
        assert_eq!(
            plan(&old, &old),
            Plan::default(),
            "the same template changes nothing"
        );
        let new = app(5, false, "  More:\n    Type: AWS::SQS::Queue\n");
        let plan = plan(&old, &new);
        assert_eq!(plan.kinesis.len(), 1);
        assert_eq!(plan.kinesis[0].0, "FnRecords");
        assert_eq!(plan.kinesis[0].1.batch_size, 5);
        assert_eq!(plan.kinesis[0].2, vec!["BatchSize"]);
        assert_eq!(plan.sqs_enabled, vec![("FnWork".to_owned(), false)]);
        assert_eq!(plan.needs_restart, vec!["More (added)".to_owned()]);
    }

    #[test]
    fn a_moved_declaration_is_no_change_and_a_removed_one_needs_a_restart() {
        let old = app(10, true, "  More:\n    Type: AWS::SQS::Queue\n");
        let moved = app(10, true, "  More:\n\n\n    Type: AWS::SQS::Queue\n");
        assert_eq!(plan(&old, &moved), Plan::default());
        let removed = app(10, true, "");
        assert_eq!(
            plan(&old, &removed).needs_restart,
            vec!["More (removed)".to_owned()]
        );
    }
}
