//! Lambda entry point: runs the clickstream-totals handler under `lambda_runtime`.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    run(service_fn(clickstream_totals::handler)).await
}
