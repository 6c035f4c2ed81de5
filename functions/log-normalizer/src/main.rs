//! Lambda entry point: runs the log-normalizer transformation under `lambda_runtime`.

use lambda_runtime::{Error, run, service_fn};
use log_normalizer::Normalizer;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let normalizer = Normalizer::from_env();
    run(service_fn(|event| normalizer.handle(event))).await
}
