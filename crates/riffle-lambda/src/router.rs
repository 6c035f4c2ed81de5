//! An invoker over every local function: each request goes to the function its
//! `function_arn` names ([`crate::invoke_api`]'s lookup), so one invoker serves callers that name
//! their function per request (a Firehose transformation's `LambdaArn`).
//!
//! Invariant: a request that names no local function (or arrives before the functions are
//! registered) ends as a service error with Lambda's `ResourceNotFoundException` wording; it
//! never reaches another function.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use riffle_core::invocation::Outcome;
use riffle_runtime::InvokeRequest;
use tower::ServiceExt as _;

use crate::LocalFunction;
use crate::invoke_api::find_function;

/// Invokes the local function each request names.
#[derive(Clone)]
pub struct FunctionRouter {
    functions: Arc<OnceLock<BTreeMap<String, LocalFunction>>>,
}

impl std::fmt::Debug for FunctionRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = self
            .functions
            .get()
            .map(|f| f.keys().cloned().collect::<Vec<_>>());
        f.debug_struct("FunctionRouter")
            .field("functions", &names)
            .finish()
    }
}

impl FunctionRouter {
    pub(crate) fn new(functions: Arc<OnceLock<BTreeMap<String, LocalFunction>>>) -> Self {
        Self { functions }
    }

    fn find(&self, function_arn: &str) -> Result<LocalFunction, String> {
        let functions = self
            .functions
            .get()
            .ok_or_else(|| "riffle local has not started its functions yet".to_owned())?;
        find_function(functions, function_arn, None).cloned()
    }
}

impl tower::Service<InvokeRequest> for FunctionRouter {
    type Response = Outcome;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: InvokeRequest) -> Self::Future {
        let found = self.find(&request.function_arn);
        Box::pin(async move {
            match found {
                Ok(function) => function.oneshot(request).await,
                Err(message) => Ok(Outcome::ServiceError(format!(
                    "ResourceNotFoundException: {message}"
                ))),
            }
        })
    }
}
