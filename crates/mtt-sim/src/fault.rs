//! Injected misbehaviour: the configured latency and failure rate of each method, applied by
//! the Open API and the OAuth server before they serve a request.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use crate::api_error::ApiError;
use crate::state::SimState;
use crate::sync::lock;

/// Applies the configured latency and failure rate of `method`. Latency is real time: it is
/// there to test the client's deadlines.
pub(crate) async fn apply_fault(sim: &SimState, method: &str) -> Result<(), Response> {
    let fault = lock(&sim.0.faults).get(method).copied();
    let Some(fault) = fault else { return Ok(()) };
    if fault.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.latency_ms)).await;
    }
    let roll: f64 = sim.with_rng(|r| r.random());
    if fault.failure_rate > 0.0 && roll < fault.failure_rate {
        let status = fault
            .failure_status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Err(ApiError::new(
            status,
            "injected_failure",
            format!("the simulator was told to fail {method} now and then"),
        )
        .into_response());
    }
    Ok(())
}
