//! The IPTC IIM parser and the Photoshop resource walker over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lightbox_media::metadata::iptc;

fuzz_target!(|data: &[u8]| {
    let _ = iptc::parse(data);
    if let Some(iim) = iptc::from_photoshop(data) {
        let _ = iptc::parse(iim);
    }
});
