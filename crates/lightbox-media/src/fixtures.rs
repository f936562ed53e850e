//! Real media files generated in code, for tests (feature `fixtures`).
//!
//! The pictures are photo-like (a sky gradient, hills, texture and sensor
//! noise), so that codecs work as hard as on a real photograph of the same
//! size. Metadata blocks are built by hand, byte by byte, the way cameras and
//! editors write them.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use std::io::Cursor;

/// Metadata to embed in [`jpeg_with_metadata`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FixtureMeta<'a> {
    /// EXIF orientation 1..=8.
    pub orientation: Option<u16>,
    /// (lat, lng), signed.
    pub gps: Option<(f64, f64)>,
    /// Exif form: `2024:07:14 21:30:05`.
    pub taken_at: Option<&'a str>,
    /// OffsetTimeOriginal, `+02:00`.
    pub offset: Option<&'a str>,
    pub make: Option<&'a str>,
    pub model: Option<&'a str>,
    pub lens: Option<&'a str>,
    pub iso: Option<u16>,
    /// IPTC Caption-Abstract.
    pub caption: Option<&'a str>,
    /// IPTC Keywords.
    pub keywords: &'a [&'a str],
    /// IPTC By-line.
    pub creator: Option<&'a str>,
    /// IPTC Copyright Notice.
    pub copyright: Option<&'a str>,
    /// XMP dc:title (written in an XMP APP1 segment, only when set).
    pub title: Option<&'a str>,
}

/// Photo-like RGB pixels.
pub fn photo_pixels(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width.max(1) as usize, height.max(1) as usize);
    let mut out = Vec::with_capacity(w * h * 3);
    let mut seed: u32 = 0x9E37_79B9;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    // Horizon profile per column.
    let horizon: Vec<f32> = (0..w)
        .map(|x| {
            let t = x as f32 / w as f32;
            0.55 + 0.08 * (t * 7.0).sin() + 0.04 * (t * 23.0 + 1.0).sin() + 0.015 * (t * 97.0).sin()
        })
        .collect();
    for y in 0..h {
        let v = y as f32 / h as f32;
        for (x, hz) in horizon.iter().enumerate() {
            let u = x as f32 / w as f32;
            let (xf, yf) = (x as f32, y as f32);
            let (mut r, mut g, mut b) = if v < *hz {
                // Sky: blue to pale, a soft sun, thin clouds.
                let k = v / hz;
                let sun = (1.0 - ((u - 0.7).powi(2) + (v - 0.2).powi(2)).sqrt() * 4.0).max(0.0);
                let cloud = (value_noise(xf, yf, 180.0, 1) * 0.6
                    + value_noise(xf, yf, 45.0, 2) * 0.3)
                    .max(0.0)
                    * 60.0;
                (
                    90.0 + 120.0 * k + 120.0 * sun + cloud,
                    140.0 + 90.0 * k + 100.0 * sun + cloud,
                    230.0 - 30.0 * k + 40.0 * sun + cloud * 0.5,
                )
            } else {
                // Ground: green-brown with foliage-like texture at several scales.
                let d = (v - hz) / (1.0 - hz).max(0.01);
                let tex = value_noise(xf, yf, 64.0, 3) * 30.0
                    + value_noise(xf, yf, 13.0, 4) * 28.0
                    + value_noise(xf, yf, 3.0, 5) * 22.0;
                let hue = value_noise(xf, yf, 300.0, 6) * 25.0;
                (
                    70.0 + 60.0 * d + tex + hue,
                    100.0 + 30.0 * d + tex * 0.8,
                    40.0 + 20.0 * d + tex * 0.5 - hue * 0.5,
                )
            };
            // Sensor noise.
            let n = rnd();
            r += f32::from((n & 0x0f) as u8) - 7.5;
            g += f32::from(((n >> 4) & 0x0f) as u8) - 7.5;
            b += f32::from(((n >> 8) & 0x0f) as u8) - 7.5;
            out.push(r.clamp(0.0, 255.0) as u8);
            out.push(g.clamp(0.0, 255.0) as u8);
            out.push(b.clamp(0.0, 255.0) as u8);
        }
    }
    out
}

/// Smooth noise in [-1, 1] with features about `scale` pixels wide.
fn value_noise(x: f32, y: f32, scale: f32, seed: u32) -> f32 {
    let (fx, fy) = (x / scale, y / scale);
    let (ix, iy) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - ix, fy - iy);
    let (ix, iy) = (ix as i32 as u32, iy as i32 as u32);
    let lattice = |a: u32, b: u32| -> f32 {
        let mut h = a
            .wrapping_mul(0x8da6_b343)
            .wrapping_add(b.wrapping_mul(0xd816_3841))
            .wrapping_add(seed.wrapping_mul(0xcb1a_b31f));
        h ^= h >> 13;
        h = h.wrapping_mul(0x5bd1_e995);
        h ^= h >> 15;
        (h & 0xffff) as f32 / 32_767.5 - 1.0
    };
    let sx = tx * tx * (3.0 - 2.0 * tx);
    let sy = ty * ty * (3.0 - 2.0 * ty);
    let top = lattice(ix, iy) * (1.0 - sx) + lattice(ix.wrapping_add(1), iy) * sx;
    let bottom = lattice(ix, iy.wrapping_add(1)) * (1.0 - sx)
        + lattice(ix.wrapping_add(1), iy.wrapping_add(1)) * sx;
    top * (1.0 - sy) + bottom * sy
}

/// What a generated festival photograph shows (see [`scene_pixels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scene {
    /// A dusk sky over a dark tree line, the sun low, streaks of cloud.
    Sunset,
    /// A calm sea under the sky, the sun's glitter on the water.
    Sea,
    /// Coloured beams fanning down through haze onto a dark stage.
    StageLights,
    /// Heads and raised arms in silhouette against a lit stage.
    Crowd,
    /// A head and shoulders in silhouette against a backdrop.
    Portrait,
}

/// The colours a scene is painted in: its background from `top` to
/// `bottom`, and its `light` (sun, beams, spotlight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub top: [u8; 3],
    pub bottom: [u8; 3],
    pub light: [u8; 3],
}

type Rgb = [f32; 3];

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn plus(a: Rgb, b: Rgb, k: f32) -> Rgb {
    [a[0] + b[0] * k, a[1] + b[1] * k, a[2] + b[2] * k]
}

fn scaled(a: Rgb, k: f32) -> Rgb {
    [a[0] * k, a[1] * k, a[2] * k]
}

/// One picture being painted: sizes, colours and the seed's choices.
struct Canvas {
    w: f32,
    h: f32,
    top: Rgb,
    bottom: Rgb,
    light: Rgb,
    seed: u32,
    /// Stage beams: (origin across, in heights from the centre; slope; colour).
    beams: Vec<(f32, f32, Rgb)>,
}

impl Canvas {
    /// A fixed number in [-1, 1] for `k` (the seed's choice).
    fn pick(&self, k: u32) -> f32 {
        value_noise(k as f32, 0.0, 1.0, self.seed)
    }

    fn paint(&self, scene: Scene, x: f32, y: f32) -> Rgb {
        // u, v: 0..1 across and down; px: across in heights from the centre.
        let (u, v) = (x / self.w, y / self.h);
        let px = (x - self.w / 2.0) / self.h;
        match scene {
            Scene::Sunset => self.sunset(x, y, u, v),
            Scene::Sea => self.sea(x, y, u, v),
            Scene::StageLights => self.stage_lights(x, y, v, px),
            Scene::Crowd => self.crowd(v, px),
            Scene::Portrait => self.portrait(v, px),
        }
    }

    /// The sky's gradient and the sun's glow and disc around (`sun_u`, `sun_v`).
    fn sky(&self, u: f32, v: f32, horizon: f32, sun_u: f32, sun_v: f32) -> Rgb {
        let base = mix(self.top, self.bottom, (v / horizon).powf(1.5));
        let d = ((u - sun_u) * self.w / self.h).hypot(v - sun_v);
        let lit = plus(base, self.light, 0.7 * (-d * 5.0).exp());
        if d < 0.045 {
            mix(lit, [255.0, 250.0, 235.0], 0.9)
        } else {
            lit
        }
    }

    fn sunset(&self, x: f32, y: f32, u: f32, v: f32) -> Rgb {
        let horizon = 0.74
            + 0.025 * (u * 9.0 + self.pick(1) * 3.0).sin()
            + 0.03 * value_noise(x, 0.0, 25.0, self.seed);
        if v >= horizon {
            // The tree line and the field in shadow.
            let tex = value_noise(x, y, 7.0, self.seed.wrapping_add(2)) * 8.0;
            return plus(scaled(self.bottom, 0.12), [tex, tex, tex], 1.0);
        }
        let sun_u = 0.5 + 0.3 * self.pick(3);
        let sky = self.sky(u, v, horizon, sun_u, horizon - 0.07);
        let cloud =
            (value_noise(x * 0.25, y * 2.5, 50.0, self.seed.wrapping_add(4)) - 0.25).max(0.0);
        mix(sky, mix(self.light, self.top, 0.4), cloud * 1.2)
    }

    fn sea(&self, x: f32, y: f32, u: f32, v: f32) -> Rgb {
        let horizon = 0.45 + 0.04 * self.pick(5);
        let sun_u = 0.5 + 0.3 * self.pick(6);
        if v < horizon {
            return self.sky(u, v, horizon, sun_u, horizon - 0.15);
        }
        let depth = (v - horizon) / (1.0 - horizon);
        let water = mix(
            scaled(self.bottom, 0.7),
            scaled(self.top, 0.45),
            depth.sqrt(),
        );
        let ripple = (y * (0.25 + 0.6 * depth)
            + value_noise(x, y, 24.0, self.seed.wrapping_add(7)) * 5.0)
            .sin();
        let water = scaled(water, 1.0 + 0.08 * ripple);
        // The sun's path on the water, wider towards the viewer.
        let off = ((u - sun_u) * self.w / self.h).abs() / (0.03 + 0.22 * depth);
        if off < 1.0 && ripple > 0.55 {
            plus(water, self.light, (1.0 - off) * 0.9)
        } else {
            water
        }
    }

    fn stage_lights(&self, x: f32, y: f32, v: f32, px: f32) -> Rgb {
        if v > 0.87 {
            // The stage floor, a line of light at its front edge.
            let edge = (1.0 - (v - 0.875).abs() * 120.0).max(0.0);
            return plus(scaled(self.bottom, 0.15), self.light, 0.5 * edge);
        }
        let haze = 0.55 + 0.45 * value_noise(x, y, 140.0, self.seed.wrapping_add(8));
        let mut c = mix(scaled(self.top, 0.25), scaled(self.bottom, 0.1), v);
        let dy = v - 0.06;
        for (ox, slope, colour) in &self.beams {
            // The lamp itself, then its beam below it.
            if (px - ox).hypot(dy) < 0.014 {
                c = mix(c, [255.0, 255.0, 245.0], 0.9);
            }
            if dy > 0.0 {
                let dist = (px - (ox + slope * dy)).abs();
                let inside = (1.0 - dist / (0.008 + 0.08 * dy)).max(0.0);
                c = plus(c, *colour, inside * inside * haze * (1.0 - 0.5 * dy) * 0.9);
            }
        }
        c
    }

    fn crowd(&self, v: f32, px: f32) -> Rgb {
        let spot = (px - 0.2 * self.pick(9)).hypot(v - 0.25);
        let bg = mix(self.light, self.top, spot * 1.4);
        let bg = mix(bg, self.bottom, (v - 0.3) / 0.4 * 0.6);
        let shadow = plus([8.0, 8.0, 12.0], self.light, 0.04);
        if v > 0.86 {
            return shadow;
        }
        // Heads on a row, each with shoulders and, for some, a raised arm.
        let spacing = 0.09;
        let k = ((px + 10.0) / spacing) as u32;
        for j in k.saturating_sub(1)..=k + 1 {
            let cx = (j as f32 + 0.5) * spacing - 10.0 + 0.02 * self.pick(j);
            let cy = 0.71 + 0.05 * self.pick(j + 1000);
            let r = 0.034 + 0.008 * self.pick(j + 2000);
            // Shoulders widening below the head.
            let below = v - cy - r * 0.7;
            let body = below > 0.0 && (px - cx).abs() < r * (1.1 + 25.0 * below).min(2.2);
            let mut arm = false;
            if self.pick(j + 3000) > 0.3 {
                // A segment from the shoulder up and out.
                let (ax, ay) = (cx + r * 1.3, cy + 0.03);
                let (bx, by) = (ax + 0.05 * self.pick(j + 4000), cy - 0.14);
                let (dx, dy) = (bx - ax, by - ay);
                let t = (((px - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                arm = (px - ax - t * dx).hypot(v - ay - t * dy) < 0.011;
            }
            if (px - cx).hypot(v - cy) < r || body || arm {
                return shadow;
            }
        }
        bg
    }

    fn portrait(&self, v: f32, px: f32) -> Rgb {
        let hx = 0.05 * self.pick(10);
        let glow = (px - hx - 0.15 * self.pick(11)).hypot(v - 0.35);
        let bg = mix(mix(self.light, self.top, glow * 1.3), self.bottom, v * 0.5);
        let shadow = scaled(self.bottom, 0.12);
        let (ex, ey) = ((px - hx) / 0.13, (v - 0.40) / 0.17);
        let e = ex * ex + ey * ey;
        if e < 1.0 {
            // Rim light on the lit side of the head.
            let rim = ((e - 0.8) / 0.2).max(0.0) * ex.max(0.0);
            return plus(shadow, self.light, 0.6 * rim);
        }
        let neck = (px - hx).abs() < 0.055 && v > 0.5 && v < 0.68;
        // Rounded shoulders, then the upper arms straight down.
        let t = ((v - 0.64) / 0.14).min(1.0);
        let shoulders = v > 0.64 && (px - hx).abs() < 0.1 + 0.3 * t.sqrt();
        if neck || shoulders { shadow } else { bg }
    }
}

/// Cheap, deterministic, photo-like RGB pixels of `scene` in `palette`;
/// `seed` moves its parts (sun, beams, heads) and its sensor noise.
pub fn scene_pixels(width: u32, height: u32, scene: Scene, palette: Palette, seed: u32) -> Vec<u8> {
    let (w, h) = (width.max(1) as usize, height.max(1) as usize);
    let rgb = |c: [u8; 3]| c.map(f32::from);
    let mut canvas = Canvas {
        w: w as f32,
        h: h as f32,
        top: rgb(palette.top),
        bottom: rgb(palette.bottom),
        light: rgb(palette.light),
        seed,
        beams: Vec::new(),
    };
    let across = canvas.w / canvas.h;
    canvas.beams = (0..6u32)
        .map(|i| {
            let ox = (i as f32 - 2.5) * 0.18 * across + 0.04 * canvas.pick(20 + i);
            let slope = (2.5 - i as f32) * 0.12 + 0.35 * canvas.pick(30 + i);
            let colour = if i % 2 == 0 {
                canvas.light
            } else {
                mix(canvas.top, [255.0, 255.0, 255.0], 0.35)
            };
            (ox, slope, colour)
        })
        .collect();
    let mut out = Vec::with_capacity(w * h * 3);
    let mut noise = seed | 1;
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32, y as f32);
            let c = canvas.paint(scene, xf, yf);
            // A lens's vignette and a sensor's noise.
            let r2 = ((xf / canvas.w - 0.5) * across).powi(2) + (yf / canvas.h - 0.5).powi(2);
            let c = scaled(c, 1.0 - 0.3 * r2);
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            for (n, channel) in c.iter().enumerate() {
                let grain = f32::from(((noise >> (4 * n)) & 0x0f) as u8) - 7.5;
                out.push((channel + grain).clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

fn encode_jpeg_pixels(width: u32, height: u32, pixels: &[u8], quality: u8) -> Vec<u8> {
    crate::render::encode_jpeg_rgb(pixels, width, height, quality).unwrap_or_default()
}

/// A photo-like JPEG (quality 90, 4:2:0).
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encode_jpeg_pixels(width, height, &photo_pixels(width, height), 90)
}

/// A JPEG with an Exif APP1 (with GPS IFD), an IPTC APP13 and, when `meta.title`
/// is set, an XMP APP1.
pub fn jpeg_with_metadata(width: u32, height: u32, meta: &FixtureMeta) -> Vec<u8> {
    jpeg_of_pixels_with_metadata(width, height, &photo_pixels(width, height), meta)
}

/// [`jpeg_with_metadata`] of other pixels (RGB, `width` × `height`), e.g.
/// [`scene_pixels`].
pub fn jpeg_of_pixels_with_metadata(
    width: u32,
    height: u32,
    pixels: &[u8],
    meta: &FixtureMeta,
) -> Vec<u8> {
    let plain = encode_jpeg_pixels(width, height, pixels, 90);
    let mut segments = Vec::new();
    let mut push_segment = |marker: u8, payload: &[u8]| {
        segments.extend_from_slice(&[0xFF, marker]);
        segments.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        segments.extend_from_slice(payload);
    };
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_tiff(meta));
    push_segment(0xE1, &app1);
    if let Some(title) = meta.title {
        let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        xmp.extend_from_slice(xmp_packet(title, meta.keywords).as_bytes());
        push_segment(0xE1, &xmp);
    }
    push_segment(0xED, &photoshop_iptc(meta));
    insert_after_soi(&plain, &segments)
}

fn insert_after_soi(jpeg: &[u8], segments: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len() + segments.len());
    out.extend_from_slice(jpeg.get(..2).unwrap_or(&[0xFF, 0xD8]));
    out.extend_from_slice(segments);
    out.extend_from_slice(jpeg.get(2..).unwrap_or(&[]));
    out
}

/// An XMP packet with dc:title and dc:subject.
pub fn xmp_packet(title: &str, keywords: &[&str]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut subject = String::new();
    for k in keywords {
        subject.push_str(&format!("<rdf:li>{}</rdf:li>", esc(k)));
    }
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>\
<dc:subject><rdf:Bag>{subject}</rdf:Bag></dc:subject>\
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>",
        esc(title)
    )
}

/// One TIFF IFD entry: tag, type, count, value bytes (little-endian).
struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    value: Vec<u8>,
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut value = s.as_bytes().to_vec();
    value.push(0);
    Entry {
        tag,
        typ: 2,
        count: value.len() as u32,
        value,
    }
}
fn short(tag: u16, v: u16) -> Entry {
    Entry {
        tag,
        typ: 3,
        count: 1,
        value: v.to_le_bytes().to_vec(),
    }
}
fn long(tag: u16, v: u32) -> Entry {
    Entry {
        tag,
        typ: 4,
        count: 1,
        value: v.to_le_bytes().to_vec(),
    }
}
fn rationals(tag: u16, parts: &[(u32, u32)]) -> Entry {
    let mut value = Vec::new();
    for (n, d) in parts {
        value.extend_from_slice(&n.to_le_bytes());
        value.extend_from_slice(&d.to_le_bytes());
    }
    Entry {
        tag,
        typ: 5,
        count: parts.len() as u32,
        value,
    }
}

fn ifd_size(entries: &[Entry]) -> usize {
    2 + 12 * entries.len()
        + 4
        + entries
            .iter()
            .filter(|e| e.value.len() > 4)
            .map(|e| e.value.len() + e.value.len() % 2)
            .sum::<usize>()
}

/// Writes an IFD (sorted by tag) whose first byte sits at `offset` in the TIFF.
fn write_ifd(mut entries: Vec<Entry>, offset: usize, out: &mut Vec<u8>) {
    entries.sort_by_key(|e| e.tag);
    let mut data_at = offset + 2 + 12 * entries.len() + 4;
    let mut data = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for e in &entries {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.typ.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        if e.value.len() <= 4 {
            let mut v = e.value.clone();
            v.resize(4, 0);
            out.extend_from_slice(&v);
        } else {
            out.extend_from_slice(&(data_at as u32).to_le_bytes());
            data.extend_from_slice(&e.value);
            if e.value.len() % 2 == 1 {
                data.push(0);
            }
            data_at += e.value.len() + e.value.len() % 2;
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&data);
}

fn dms(x: f64) -> [(u32, u32); 3] {
    let x = x.abs();
    let d = x.floor();
    let m = ((x - d) * 60.0).floor();
    let s = ((x - d) * 60.0 - m) * 60.0;
    [
        (d as u32, 1),
        (m as u32, 1),
        ((s * 10_000.0).round() as u32, 10_000),
    ]
}

/// A little-endian TIFF structure with IFD0, the Exif IFD and the GPS IFD.
pub fn exif_tiff(meta: &FixtureMeta) -> Vec<u8> {
    let mut ifd0 = Vec::new();
    if let Some(m) = meta.make {
        ifd0.push(ascii(271, m));
    }
    if let Some(m) = meta.model {
        ifd0.push(ascii(272, m));
    }
    if let Some(o) = meta.orientation {
        ifd0.push(short(274, o));
    }
    ifd0.push(ascii(305, "Lightbox fixtures"));
    let mut exif = vec![
        rationals(33434, &[(1, 250)]),
        rationals(33437, &[(28, 10)]),
        rationals(37386, &[(50, 1)]),
    ];
    if let Some(iso) = meta.iso {
        exif.push(short(34855, iso));
    }
    if let Some(t) = meta.taken_at {
        exif.push(ascii(36867, t));
    }
    if let Some(o) = meta.offset {
        exif.push(ascii(36881, o));
    }
    if let Some(l) = meta.lens {
        exif.push(ascii(42036, l));
    }
    let mut gps = Vec::new();
    if let Some((lat, lng)) = meta.gps {
        gps.push(Entry {
            tag: 0,
            typ: 1,
            count: 4,
            value: vec![2, 3, 0, 0],
        });
        gps.push(ascii(1, if lat < 0.0 { "S" } else { "N" }));
        gps.push(rationals(2, &dms(lat)));
        gps.push(ascii(3, if lng < 0.0 { "W" } else { "E" }));
        gps.push(rationals(4, &dms(lng)));
    }
    // Pointers are LONGs (inline): sizes do not depend on their values.
    let extra = 1 + usize::from(!gps.is_empty());
    let ifd0_size = ifd_size(&ifd0) + 12 * extra;
    let exif_at = 8 + ifd0_size;
    let gps_at = exif_at + ifd_size(&exif);
    ifd0.push(long(34665, exif_at as u32));
    if !gps.is_empty() {
        ifd0.push(long(34853, gps_at as u32));
    }
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    write_ifd(ifd0, 8, &mut out);
    write_ifd(exif, exif_at, &mut out);
    if !gps.is_empty() {
        write_ifd(gps, gps_at, &mut out);
    }
    out
}

/// IPTC IIM datasets (UTF-8 declared).
pub fn iim(meta: &FixtureMeta) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ds = |record: u8, dataset: u8, value: &[u8]| {
        out.extend_from_slice(&[0x1C, record, dataset]);
        out.extend_from_slice(&(value.len().min(0x7fff) as u16).to_be_bytes());
        out.extend_from_slice(&value[..value.len().min(0x7fff)]);
    };
    ds(1, 90, b"\x1b%G");
    ds(2, 0, &[0, 4]);
    if let Some(c) = meta.caption {
        ds(2, 120, c.as_bytes());
    }
    for k in meta.keywords {
        ds(2, 25, k.as_bytes());
    }
    if let Some(c) = meta.creator {
        ds(2, 80, c.as_bytes());
    }
    if let Some(c) = meta.copyright {
        ds(2, 116, c.as_bytes());
    }
    out
}

/// The payload of a JPEG APP13 segment: Photoshop 3.0 resources with the IIM block.
pub fn photoshop_iptc(meta: &FixtureMeta) -> Vec<u8> {
    let iim = iim(meta);
    let mut out = b"Photoshop 3.0\0".to_vec();
    out.extend_from_slice(b"8BIM");
    out.extend_from_slice(&0x0404u16.to_be_bytes());
    out.extend_from_slice(&[0, 0]); // empty Pascal name, padded
    out.extend_from_slice(&(iim.len() as u32).to_be_bytes());
    out.extend_from_slice(&iim);
    if iim.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn encode_with(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    encode_pixels(width, height, photo_pixels(width, height), format)
}

fn encode_pixels(width: u32, height: u32, pixels: Vec<u8>, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match image::RgbImage::from_raw(width.max(1), height.max(1), pixels) {
        Some(img) => {
            if format == image::ImageFormat::WebP {
                let _ = image::codecs::webp::WebPEncoder::new_lossless(&mut out).encode(
                    img.as_raw(),
                    img.width(),
                    img.height(),
                    image::ExtendedColorType::Rgb8,
                );
            } else {
                let _ = image::DynamicImage::ImageRgb8(img).write_to(&mut out, format);
            }
        }
        None => return Vec::new(),
    }
    out.into_inner()
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    encode_with(width, height, image::ImageFormat::Png)
}

/// A PNG of other pixels (RGB, `width` × `height`), e.g. [`scene_pixels`].
pub fn png_of_pixels(width: u32, height: u32, pixels: Vec<u8>) -> Vec<u8> {
    encode_pixels(width, height, pixels, image::ImageFormat::Png)
}

/// A PNG with transparency (alpha falls off to the right).
pub fn png_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let rgb = photo_pixels(width, height);
    let (w, h) = (width.max(1), height.max(1));
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| {
            let x = (i as u32) % w;
            [p[0], p[1], p[2], (255 - x * 255 / w) as u8]
        })
        .collect();
    let mut out = Cursor::new(Vec::new());
    if let Some(img) = image::RgbaImage::from_raw(w, h, rgba) {
        let _ = image::DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Png);
    }
    out.into_inner()
}

/// A lossless WebP.
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    encode_with(width, height, image::ImageFormat::WebP)
}

pub fn gif(width: u32, height: u32) -> Vec<u8> {
    encode_with(width, height, image::ImageFormat::Gif)
}

pub fn tiff(width: u32, height: u32) -> Vec<u8> {
    encode_with(width, height, image::ImageFormat::Tiff)
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

/// A small, valid PNG (correct CRCs) whose header claims `width × height`.
pub fn pixel_bomb_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // The first rows' worth of zeros; a decoder would have to allocate it all.
    let zeros = vec![0u8; 64 * 1024];
    let idat = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 9);
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG cut short inside its headers (before the frame header).
pub fn truncated_jpeg() -> Vec<u8> {
    let mut j = jpeg(64, 48);
    // Cut before the frame header (and three bytes into the segment
    // before it): no size to read.
    let sof = j.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap_or(5);
    j.truncate(sof.saturating_sub(3));
    j
}

/// A JPEG whose entropy-coded data is cut in the middle.
pub fn jpeg_cut_in_scan() -> Vec<u8> {
    let mut j = jpeg(256, 192);
    let cut = j.len() / 2;
    j.truncate(cut);
    j
}

fn bmff_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// A tiny ftyp + moov (mvhd: 2.5 s, created 2024-07-14T19:30:05Z; one 640×480
/// track; ©xyz +48.8584+002.2945) + empty mdat: sniffs as MP4, probes fully.
pub fn mp4_minimal() -> Vec<u8> {
    let mut ftyp = b"isom".to_vec();
    ftyp.extend_from_slice(&512u32.to_be_bytes());
    ftyp.extend_from_slice(b"isomiso2mp41");
    // 2024-07-14T19:30:05Z in seconds since 1904.
    let created: u32 = (1_720_985_405u64 + 2_082_844_800) as u32;
    let mut mvhd = vec![0u8; 4];
    mvhd.extend_from_slice(&created.to_be_bytes());
    mvhd.extend_from_slice(&created.to_be_bytes());
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&2500u32.to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume
    mvhd.extend_from_slice(&[0u8; 10]);
    mvhd.extend_from_slice(&identity_matrix());
    mvhd.extend_from_slice(&[0u8; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    let mut tkhd = vec![0, 0, 0, 3];
    tkhd.extend_from_slice(&created.to_be_bytes());
    tkhd.extend_from_slice(&created.to_be_bytes());
    tkhd.extend_from_slice(&1u32.to_be_bytes());
    tkhd.extend_from_slice(&[0u8; 4]);
    tkhd.extend_from_slice(&2500u32.to_be_bytes());
    tkhd.extend_from_slice(&[0u8; 8]);
    tkhd.extend_from_slice(&[0u8; 8]); // layer, group, volume, reserved
    tkhd.extend_from_slice(&identity_matrix());
    tkhd.extend_from_slice(&(640u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(480u32 << 16).to_be_bytes());
    let trak = bmff_box(b"trak", &bmff_box(b"tkhd", &tkhd));
    let text = b"+48.8584+002.2945/";
    let mut xyz = (text.len() as u16).to_be_bytes().to_vec();
    xyz.extend_from_slice(&0x15c7u16.to_be_bytes());
    xyz.extend_from_slice(text);
    let udta = bmff_box(b"udta", &bmff_box(&[0xA9, b'x', b'y', b'z'], &xyz));
    let mut moov = bmff_box(b"mvhd", &mvhd);
    moov.extend_from_slice(&trak);
    moov.extend_from_slice(&udta);
    let mut out = bmff_box(b"ftyp", &ftyp);
    out.extend_from_slice(&bmff_box(b"moov", &moov));
    out.extend_from_slice(&bmff_box(b"mdat", &[]));
    out
}

fn identity_matrix() -> [u8; 36] {
    let mut m = [0u8; 36];
    m[0..4].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    m[16..20].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    m[32..36].copy_from_slice(&0x4000_0000u32.to_be_bytes());
    m
}

/// A minimal HEIF header: ftyp `heic` + meta with one `ispe` of `width × height`.
pub fn heic_header(width: u32, height: u32) -> Vec<u8> {
    let mut ftyp = b"heic".to_vec();
    ftyp.extend_from_slice(&0u32.to_be_bytes());
    ftyp.extend_from_slice(b"mif1heic");
    let mut ispe = vec![0u8; 4];
    ispe.extend_from_slice(&width.to_be_bytes());
    ispe.extend_from_slice(&height.to_be_bytes());
    let ipco = bmff_box(b"ipco", &bmff_box(b"ispe", &ispe));
    let iprp = bmff_box(b"iprp", &ipco);
    let mut meta = vec![0u8; 4];
    meta.extend_from_slice(&iprp);
    let mut out = bmff_box(b"ftyp", &ftyp);
    out.extend_from_slice(&bmff_box(b"meta", &meta));
    out
}

/// Smooth RGB pixels with a little texture, quick to make at any size.
fn plain_row(width: u32, y: u32, row: &mut Vec<u8>) {
    row.clear();
    for x in 0..width {
        let grain = ((x.wrapping_mul(7) ^ y.wrapping_mul(13)) & 15) as u8;
        row.extend_from_slice(&[
            ((x / 40) as u8).wrapping_add(grain),
            ((y / 40) as u8).wrapping_add(grain),
            ((x + y) / 80) as u8,
        ]);
    }
}

/// A large baseline JPEG (quality 85, 4:2:0) made quickly: for memory tests.
pub fn plain_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    let mut row = Vec::new();
    for y in 0..height {
        plain_row(width, y, &mut row);
        pixels.extend_from_slice(&row);
    }
    encode_jpeg_pixels(width, height, &pixels, 85)
}

/// A large non-interlaced RGB PNG: for memory tests.
pub fn plain_png(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    let mut row = Vec::new();
    for y in 0..height {
        plain_row(width, y, &mut row);
        pixels.extend_from_slice(&row);
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let written = encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&pixels).and_then(|()| w.finish()));
    if written.is_err() {
        return Vec::new();
    }
    out
}

/// The header of a little-endian TIFF declaring `width × height` pixels
/// (8-bit RGB) and no pixel data: the pixel checks see its size.
pub fn tiff_header(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    let entries: [(u16, u16, u32); 4] = [
        (256, 4, width),  // ImageWidth, LONG
        (257, 4, height), // ImageLength, LONG
        (258, 3, 8),      // BitsPerSample
        (262, 3, 2),      // PhotometricInterpretation: RGB
    ];
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_are_deterministic_sized_and_different() {
        let palette = Palette {
            top: [20, 30, 90],
            bottom: [200, 90, 40],
            light: [255, 200, 120],
        };
        let scenes = [
            Scene::Sunset,
            Scene::Sea,
            Scene::StageLights,
            Scene::Crowd,
            Scene::Portrait,
        ];
        let pictures: Vec<Vec<u8>> = scenes
            .iter()
            .map(|s| scene_pixels(160, 90, *s, palette, 7))
            .collect();
        for (scene, pixels) in scenes.iter().zip(&pictures) {
            assert_eq!(pixels.len(), 160 * 90 * 3, "{scene:?}");
            assert_eq!(
                pixels,
                &scene_pixels(160, 90, *scene, palette, 7),
                "{scene:?}"
            );
        }
        for (n, a) in pictures.iter().enumerate() {
            for b in &pictures[n + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_ne!(
            pictures[0],
            scene_pixels(160, 90, Scene::Sunset, palette, 8)
        );
    }
}
