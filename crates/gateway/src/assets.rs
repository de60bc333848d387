//! The prospect web page: every file of `crates/gateway/static/`, embedded at build time
//! (see `build.rs`), served at `/` (index.html), `/{name}` and `/static/{name}`. `/admin`
//! (the operator view, docs/observability.md) is the same page: index.html, whose script
//! shows the operator view there; its data needs the admin key, the page does not.

use actix_web::HttpResponse;
use actix_web::http::header;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The file served for `path` (the normalised path, original case).
pub fn find(path: &str) -> Option<&'static Asset> {
    let name = match path {
        "/" | "/admin" => "index.html",
        p => p.strip_prefix("/static/").or_else(|| p.strip_prefix('/'))?,
    };
    ASSETS.iter().find(|a| a.name == name)
}

pub fn respond(asset: &'static Asset) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(asset.body)
}
