//! `mtt_sim::router` serves every route without a socket.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use mtt_sim::{SimConfig, SimState, SimUrls, SystemClock, router};
use tower::ServiceExt;

#[tokio::test]
async fn the_combined_router_answers_oauth_api_and_control_routes() {
    let state = SimState::new(
        SimConfig::default(),
        Arc::new(SystemClock),
        SimUrls::default(),
    )
    .unwrap();
    let app = router(state.clone());
    let status = |uri: &str, method: &str| {
        let app = app.clone();
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        async move { app.oneshot(request).await.unwrap().status() }
    };
    assert_eq!(
        status("/externalNumbersInfo", "GET").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status("/oauth/authorize", "GET").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(status("/control/state", "GET").await, StatusCode::OK);
    assert_eq!(
        status("/records/none.mp3", "GET").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(state.account().workplaces.len(), 6);
    state.stop();
}
