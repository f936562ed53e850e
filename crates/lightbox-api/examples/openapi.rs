//! Prints the OpenAPI document as the server serves it at
//! `/openapi.v1.yaml` (with `http://127.0.0.1:8080` as its server URL), so a
//! refactoring can be checked to leave it byte-identical:
//! `cargo run -q -p lightbox-api --example openapi > before.yaml`.

fn main() {
    match lightbox_api::openapi("http://127.0.0.1:8080").to_yaml() {
        Ok(yaml) => print!("{yaml}"),
        Err(e) => {
            eprintln!("cannot render the document: {e}");
            std::process::exit(1);
        }
    }
}
