//! The warning about an SQS mapping whose function has reserved concurrency.
//!
//! Lambda's SQS pollers do not account for the function's reserved concurrency: when they want
//! more concurrent invocations than it allows, the extra ones are throttled, and messages
//! throttled until their visibility timeout return to the queue with a higher receive count and
//! can reach the dead-letter queue. ScalingConfig.MaximumConcurrency is the setting that caps
//! the pollers, so a template with reserved concurrency and no MaximumConcurrency at or below
//! it runs, locally as on AWS, with that risk; the warning names it.

use crate::error::Problem;

/// The warning for an SQS mapping of a function with `reserved` concurrency and the mapping's
/// `maximum_concurrency`, if there is a risk.
pub(crate) fn reserved_concurrency_risk(
    function: &str,
    reserved: Option<u32>,
    maximum_concurrency: Option<u32>,
) -> Option<Problem> {
    let reserved = reserved?;
    if maximum_concurrency.is_some_and(|maximum| maximum <= reserved) {
        return None;
    }
    Some(Problem::ReservedConcurrencyRisk {
        function: function.to_owned(),
        reserved,
        maximum_concurrency,
    })
}

pub(crate) fn risk_text(reserved: u32, maximum_concurrency: Option<u32>) -> String {
    let setting = match maximum_concurrency {
        None => "this SQS mapping sets no ScalingConfig.MaximumConcurrency".to_owned(),
        Some(maximum) => {
            format!("this SQS mapping's ScalingConfig.MaximumConcurrency {maximum} is above it")
        }
    };
    let advice = if reserved >= 2 {
        format!("set ScalingConfig.MaximumConcurrency to at most {reserved}")
    } else {
        "MaximumConcurrency is at least 2, so raise ReservedConcurrentExecutions to at least 2 \
         and set ScalingConfig.MaximumConcurrency to at most that"
            .to_owned()
    };
    format!(
        "{setting}. Lambda's SQS pollers do not account for reserved concurrency: invocations \
         beyond {reserved} are throttled, and throttled messages return to the queue after the \
         visibility timeout with a higher receive count and can reach the dead-letter queue; \
         {advice}"
    )
}

#[cfg(test)]
mod tests {
    use crate::error::{Problem, Severity};
    use crate::{Options, read};

    fn template(function_settings: &str, event_settings: &str) -> String {
        format!(
            "Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: worker
      CodeUri: functions/worker
      Handler: bootstrap
      Runtime: provided.al2023
{function_settings}      Events:
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
{event_settings}"
        )
    }

    fn risks(source: &str) -> Vec<String> {
        let template = read(source, &Options::new("template.yaml", 0))
            .unwrap_or_else(|e| panic!("expected no errors, got:\n{e}"));
        template
            .warnings
            .iter()
            .filter(|d| matches!(d.problem, Problem::ReservedConcurrencyRisk { .. }))
            .inspect(|d| assert_eq!(d.severity, Severity::Warning))
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reserved_concurrency_without_maximum_concurrency_warns_of_throttles_and_the_dlq() {
        let source = template("      ReservedConcurrentExecutions: 2\n", "");
        let warnings = risks(&source);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let warning = &warnings[0];
        for needle in [
            "template.yaml:14:",
            "function worker has ReservedConcurrentExecutions 2",
            "sets no ScalingConfig.MaximumConcurrency",
            "throttled",
            "higher receive count",
            "dead-letter queue",
            "set ScalingConfig.MaximumConcurrency to at most 2",
        ] {
            assert!(warning.contains(needle), "{needle:?} not in {warning}");
        }
    }

    #[test]
    fn maximum_concurrency_above_reserved_concurrency_warns_and_at_or_below_it_does_not() {
        let scaling =
            |n: u32| format!("            ScalingConfig:\n              MaximumConcurrency: {n}\n");
        let reserved = "      ReservedConcurrentExecutions: 4\n";
        let above = risks(&template(reserved, &scaling(5)));
        assert_eq!(above.len(), 1, "{above:?}");
        assert!(
            above[0].contains("MaximumConcurrency 5 is above it"),
            "{}",
            above[0]
        );
        assert!(risks(&template(reserved, &scaling(4))).is_empty());
        assert!(risks(&template(reserved, &scaling(2))).is_empty());
        assert!(
            risks(&template("", "")).is_empty(),
            "no reserved concurrency, no risk"
        );
    }
}
