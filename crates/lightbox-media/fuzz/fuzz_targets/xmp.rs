//! The XMP parser over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lightbox_media::metadata::xmp::parse(data);
});
