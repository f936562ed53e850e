//! sniff() and header_dimensions() of every kind over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lightbox_media::{MediaKind, header_dimensions, sniff};

fuzz_target!(|data: &[u8]| {
    let _ = sniff(data);
    for kind in MediaKind::ALL {
        let _ = header_dimensions(kind, data);
    }
});
