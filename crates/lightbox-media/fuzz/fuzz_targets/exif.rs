//! The Exif parser over arbitrary TIFF-ish bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lightbox_media::metadata::exif::parse(data);
});
