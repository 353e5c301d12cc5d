//! The relay embeds the admin console's built files (`console/dist`, made by npm): without them
//! it cannot be built, and this says what to run instead of a missing-folder error.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console/dist");
    println!("cargo:rerun-if-changed=../../console/dist");
    if !dist.join("index.html").is_file() {
        println!(
            "cargo:warning=run ./dev setup: the admin console's assets console/dist are built by npm"
        );
        eprintln!(
            "error: {} is missing. Run ./dev setup: the admin console's assets console/dist are built by npm (cd console && npm ci && npm run build).",
            dist.join("index.html").display()
        );
        std::process::exit(1);
    }
}
