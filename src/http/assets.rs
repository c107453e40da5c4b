//! The static files the pages use, embedded in the binary from `assets/`
//! (so `serve` needs no Node and no files beside it): GraphiQL's scripts
//! (`assets/graphiql/LICENSES.txt`) and the NHS.UK frontend's compiled CSS,
//! JavaScript and images (`assets/nhsuk-frontend/LICENSE`, vendored by
//! `scripts/vendor-nhsuk-frontend`).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Every file under `assets/`, compiled in.
#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// A file under `/assets/`, with its type and a day's caching; 404 for
/// anything else.
pub async fn serve(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_string()),
                (header::CACHE_CONTROL, "public, max-age=86400".to_string()),
            ],
            file.data,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}
