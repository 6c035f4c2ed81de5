//! `riffle local` and `riffle validate`: the SAM template, run on this machine.
//!
//! `local` reads the template, starts the embedded emulator (or uses `--endpoint-url`), creates
//! the streams and queues, builds each Rust function with cargo, runs it behind the local
//! Runtime API host, starts every mapping, and shows their status and the functions' logs
//! until Ctrl-C, when it stops polling, lets invocations finish and saves checkpoints.
//!
//! `control` serves the control API on the emulator's port (or on `--control-port` with
//! `--endpoint-url`): the mappings, their decision journals and Lambda's Invoke API.
//!
//! `watch` (`--watch`) rebuilds functions whose sources change and applies template edits
//! while everything runs.
//!
//! Invariant: nothing starts unless the whole template is valid; every problem is reported at
//! once, located, before any resource is created.

mod build;
mod control;
mod delivery_view;
mod resources;
pub(crate) mod run;
mod status;
mod table;
mod terminal;
mod watch;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub(crate) use run::run_local;

/// What both commands read.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TemplateArgs {
    /// The SAM template.
    #[arg(long, default_value = "template.yaml")]
    pub(crate) template: PathBuf,
    /// Template parameters, `Name=Value` (or SAM's `ParameterKey=Name,ParameterValue=Value`).
    #[arg(long, num_args = 1..)]
    pub(crate) parameter_overrides: Vec<String>,
    /// `AWS::Region`.
    #[arg(long, default_value = "us-east-1", env = "AWS_REGION")]
    pub(crate) region: String,
    /// `AWS::AccountId`.
    #[arg(long, default_value = "000000000000")]
    pub(crate) account_id: String,
    /// `AWS::StackName`, also the prefix of resources the template does not name.
    #[arg(long, default_value = "riffle")]
    pub(crate) stack_name: String,
}

/// Options of `riffle validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    pub(crate) template: TemplateArgs,
}

/// Reads and checks the template; returns the application and its warnings, or every error.
/// Printing the warnings is the caller's: `riffle local` reads the template twice (to validate
/// before anything starts, then against the endpoint's real URL) and prints them once.
pub(crate) fn read_template(
    args: &TemplateArgs,
    queue_url_base: &str,
) -> anyhow::Result<riffle_template::Template> {
    let source = std::fs::read_to_string(&args.template)
        .with_context(|| format!("reading {}", args.template.display()))?;
    let mut options = riffle_template::Options::new(
        args.template.display().to_string(),
        riffle_core::time::Millis::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(0),
    );
    options.region = args.region.clone();
    options.account_id = args.account_id.clone();
    options.stack_name = args.stack_name.clone();
    options.queue_url_base = queue_url_base.trim_end_matches('/').to_owned();
    options.parameter_overrides =
        riffle_template::parse_parameter_overrides(&args.parameter_overrides)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    riffle_template::read(&source, &options).map_err(|error| anyhow::anyhow!("{error}"))
}

/// Prints the template's warnings on stderr, one a line.
pub(crate) fn print_warnings(template: &riffle_template::Template) {
    for warning in &template.warnings {
        eprintln!("{warning}");
    }
}

/// `riffle validate`: the same checks as `riffle local`, and nothing else.
pub(crate) fn validate(args: &ValidateArgs) -> anyhow::Result<()> {
    let template = read_template(&args.template, "http://127.0.0.1:4566")?;
    print_warnings(&template);
    let app = &template.application;
    crate::tools::output::out!(
        "{} is valid: {} stream(s), {} queue(s), {} function(s), {} mapping(s){}",
        args.template.template.display(),
        app.streams.len(),
        app.queues.len(),
        app.functions.len(),
        app.mappings.len(),
        if template.warnings.is_empty() {
            String::new()
        } else {
            format!(", {} warning(s)", template.warnings.len())
        }
    )
}

/// The directory the template's relative paths (CodeUri) start from.
pub(crate) fn template_dir(template: &Path) -> PathBuf {
    match template.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
