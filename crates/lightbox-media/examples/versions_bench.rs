//! The versions benchmark (run by `bench/versions.sh`).
//!
//! - `versions-bench make FILE [WIDTH HEIGHT]`: writes a photo-like JPEG
//!   (default 6000×4000, quality 90) to FILE.
//! - `versions-bench run FILE [ROUNDS] [OUT_DIR]`: builds the four default
//!   versions (320, 640, 1280, 2560) of FILE ROUNDS times on this thread and
//!   prints each round's wall time in ms, then `median_ms=…`; writes the
//!   versions of the last round to OUT_DIR when given.
//! - `versions-bench webp FILE`: sizes of each version as built (JPEG) and as
//!   lossless WebP (the measurement behind the format decision).

use std::path::PathBuf;
use std::time::Instant;

use lightbox_media::{MediaKind, RenderLimits, VersionSpec, render_versions, sniff};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("make") => {
            let path = PathBuf::from(args.get(1).ok_or("make FILE [W H]")?);
            let w: u32 = args.get(2).map_or(Ok(6000), |s| s.parse())?;
            let h: u32 = args.get(3).map_or(Ok(4000), |s| s.parse())?;
            let bytes = lightbox_media::fixtures::jpeg(w, h);
            std::fs::write(&path, &bytes)?;
            println!("{} {w}x{h} {} bytes", path.display(), bytes.len());
        }
        Some("run") => {
            let path = PathBuf::from(args.get(1).ok_or("run FILE [ROUNDS] [OUT_DIR]")?);
            let rounds: usize = args.get(2).map_or(Ok(1), |s| s.parse())?;
            let out = args.get(3).map(PathBuf::from);
            let head = std::fs::read(&path)?;
            let kind = sniff(&head).unwrap_or(MediaKind::Jpeg);
            let specs = VersionSpec::defaults();
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..rounds.max(1) {
                let t = Instant::now();
                let r = render_versions(kind, &path, 0, &specs, &RenderLimits::default())?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                println!("round_ms={ms:.1}");
                times.push(ms);
                last = Some(r);
            }
            times.sort_by(f64::total_cmp);
            println!("median_ms={:.1}", times[times.len() / 2]);
            if let Some(r) = last {
                for v in &r.versions {
                    println!(
                        "version {} {}x{} {} {} bytes",
                        v.name,
                        v.width,
                        v.height,
                        v.content_type,
                        v.bytes.len()
                    );
                    if let Some(dir) = &out {
                        std::fs::create_dir_all(dir)?;
                        let ext = if v.content_type == "image/webp" {
                            "webp"
                        } else {
                            "jpg"
                        };
                        std::fs::write(dir.join(format!("{}.{ext}", v.name)), &v.bytes)?;
                    }
                }
            }
        }
        Some("webp") => {
            // JPEG (as built) against lossless WebP of the same pixels.
            let path = PathBuf::from(args.get(1).ok_or("webp FILE")?);
            let r = render_versions(
                MediaKind::Jpeg,
                &path,
                0,
                &VersionSpec::defaults(),
                &RenderLimits::default(),
            )?;
            for v in &r.versions {
                let px = image::load_from_memory(&v.bytes)?.into_rgb8();
                let t = Instant::now();
                let mut webp = Vec::new();
                image::codecs::webp::WebPEncoder::new_lossless(&mut webp).encode(
                    px.as_raw(),
                    px.width(),
                    px.height(),
                    image::ExtendedColorType::Rgb8,
                )?;
                println!(
                    "{} {}x{} jpeg_q82={} webp_lossless={} ({:.1}x, {:.1} ms)",
                    v.name,
                    v.width,
                    v.height,
                    v.bytes.len(),
                    webp.len(),
                    webp.len() as f64 / v.bytes.len() as f64,
                    t.elapsed().as_secs_f64() * 1000.0
                );
            }
        }
        _ => {
            eprintln!("usage: versions-bench make FILE [W H] | run FILE [ROUNDS] [OUT_DIR]");
            std::process::exit(2);
        }
    }
    Ok(())
}
