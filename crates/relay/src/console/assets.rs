//! The console's built files (Vite's output in `console/dist/`), embedded in the binary: the
//! single-page app's `index.html` for `/admin` and any page under it, and `/admin/assets/*`
//! (hashed names, cached for good). No session is needed: they hold no data.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

use crate::state::RelayState;

/// `console/dist` (the build script refuses to build without its `index.html`).
#[derive(Embed)]
#[folder = "../../console/dist"]
struct Dist;

pub(super) fn routes() -> Router<RelayState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/", get(index))
        .route("/admin/{*path}", get(file))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn serve(path: &str, cache: &'static str) -> Response {
    let Some(file) = Dist::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

async fn index() -> Response {
    serve("index.html", "no-cache")
}

/// A page of the app (no dot in the path) is its `index.html`; a file is served from
/// `assets/`, cached for good since Vite names it by its hash.
async fn file(Path(path): Path<String>) -> Response {
    if !path.contains('.') {
        return serve("index.html", "no-cache");
    }
    if path.starts_with("assets/") && !path.contains("..") {
        return serve(&path, "public, max-age=31536000, immutable");
    }
    serve(&path, "no-cache")
}
