//! Embeds every file of `static/` in the binary: writes `$OUT_DIR/assets.rs`, a table of
//! `(name, content type, include_bytes!(…))`, so files added later need no code change.

use std::fmt::Write as _;
use std::path::Path;

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn main() {
    // read when the script runs, not baked in when it is compiled: a build script compiled
    // for another checkout sharing the target directory must still read this one's files
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dir = Path::new(&manifest_dir).join("static");
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        // only plain names: they become URL paths as they are
        .filter(|n| {
            !n.starts_with('.')
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .collect();
    names.sort();
    assert!(
        names.iter().any(|n| n == "index.html"),
        "{} has no index.html",
        dir.display()
    );
    for name in &names {
        println!("cargo:rerun-if-changed={}", dir.join(name).display());
    }
    let mut out = String::from("pub static ASSETS: &[Asset] = &[\n");
    for name in &names {
        let path = dir.join(name);
        let _ = writeln!(
            out,
            "    Asset {{ name: {name:?}, content_type: {:?}, body: include_bytes!({:?}) }},",
            content_type(name),
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_owned());
    if let Err(e) = std::fs::write(Path::new(&out_dir).join("assets.rs"), out) {
        panic!("cannot write assets.rs: {e}");
    }
}
