//! The MP4/MOV box reader over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lightbox_media::probe_video_bytes(data);
});
