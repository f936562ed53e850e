//! Writes the seed inputs of the fuzz targets (`fuzz/corpus/<target>/seed-*`)
//! from the fixtures: `cargo run -p lightbox-media --example fuzz-seeds -- DIR`.

use lightbox_media::fixtures::{self, FixtureMeta};

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "crates/lightbox-media/fuzz/corpus".into()),
    );
    let meta = FixtureMeta {
        orientation: Some(6),
        gps: Some((-33.8568, -151.2153)),
        taken_at: Some("2024:07:14 21:30:05"),
        offset: Some("+10:00"),
        make: Some("Fujifilm"),
        model: Some("X-T5"),
        lens: Some("XF16-55mm"),
        iso: Some(400),
        caption: Some("Opera House at dusk"),
        keywords: &["sydney", "harbour"],
        creator: Some("Marina Ortiz"),
        copyright: Some("(c) Marina Ortiz"),
        title: Some("Blue hour"),
    };
    let jpeg = fixtures::jpeg_with_metadata(8, 8, &meta);
    let images = [
        ("jpeg", jpeg.clone()),
        ("png", fixtures::png(4, 4)),
        ("webp", fixtures::webp(4, 4)),
        ("gif", fixtures::gif(4, 4)),
        ("tiff", fixtures::tiff(4, 4)),
        ("heic", fixtures::heic_header(64, 48)),
        ("bomb", fixtures::pixel_bomb_png(30_000, 30_000)),
    ];
    let write = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let d = dir.join(target);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(format!("seed-{name}")), bytes)
    };
    for (name, bytes) in &images {
        write("sniff", name, bytes)?;
        write("read_embedded", name, bytes)?;
    }
    write("sniff", "mp4", &fixtures::mp4_minimal())?;
    write("probe_video", "mp4", &fixtures::mp4_minimal())?;
    write("exif", "tiff", &fixtures::exif_tiff(&meta))?;
    write("iptc", "iim", &fixtures::iim(&meta))?;
    write("iptc", "photoshop", &fixtures::photoshop_iptc(&meta))?;
    write(
        "xmp",
        "packet",
        fixtures::xmp_packet("Blue hour", &["a", "b"]).as_bytes(),
    )?;
    Ok(())
}
