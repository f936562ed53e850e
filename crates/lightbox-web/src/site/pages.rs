//! The markup of website pages, the Atom feed, the sitemap and robots.txt.
//! Every page works without script (there is none), every `<img>` carries
//! its width and height (no layout shift), a `srcset` of the image's
//! versions and its alt text; images below the first rows load lazily.

use axum::http::StatusCode;
use lightbox_core::images::{Image, Version};
use lightbox_core::press::SignedMember;
use lightbox_core::website_pages::{Section, ShownSet, Site};
use lightbox_core::websites::{Downloads, WebsiteType};
use lightbox_core::{Core, CoreError, ErrorKind};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::Rendered;

/// Images per set or search page.
const PAGE_SIZE: i64 = 60;
/// Images in the feed.
const FEED_SIZE: i64 = 50;
/// URLs in the sitemap (the protocol's limit is 50,000).
const SITEMAP_MAX: i64 = 45_000;
/// Grid images from this index on load lazily (below the first rows).
const EAGER: usize = 8;

const CSS: &str = include_str!("../../assets/site.css");

type Page = Result<Option<Rendered>, CoreError>;

/// What every page of a website has around its content.
pub(super) struct Frame<'a> {
    pub(super) site: &'a Site,
    pub(super) prefix: &'a str,
    pub(super) logo: Option<&'a Image>,
    /// `<title>` and the OpenGraph title.
    pub(super) title: String,
    pub(super) description: String,
    /// The page's own address (canonical, `og:url`), under the website's URL.
    pub(super) path: String,
    /// The OpenGraph/Twitter card image.
    pub(super) card: Option<&'a Version>,
    /// Keep out of search engines (search results, errors).
    pub(super) noindex: bool,
    /// The signed-in press member (press websites).
    pub(super) member: Option<&'a SignedMember>,
}

/// The website's CSS with its accent colour, inline (no extra request).
fn style(site: &Site) -> String {
    let accent = &site.website.accent;
    format!(
        ":root{{--accent:{accent};--accent-ink:{}}}\n{CSS}",
        ink_on(accent)
    )
}

/// Black or white, whichever has the higher contrast on `#rrggbb`.
fn ink_on(accent: &str) -> &'static str {
    let channel = |i: usize| {
        let v = accent
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |v| f64::from(v) / 255.0);
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white (1.05 / (L + 0.05)) against black ((L + 0.05) / 0.05).
    if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 {
        "#ffffff"
    } else {
        "#000000"
    }
}

/// `https://host/path` → `https://host`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

/// The origins the page's images come from (for its CSP).
fn origins<'a>(images: impl IntoIterator<Item = &'a Image>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for image in images {
        for v in &image.versions {
            if let Some(o) = v.url.as_deref().and_then(origin_of)
                && !out.contains(&o)
            {
                out.push(o);
            }
        }
    }
    out
}

/// The ready public versions with a known size, smallest first.
fn versions(image: &Image) -> Vec<&Version> {
    let mut v: Vec<&Version> = image
        .versions
        .iter()
        .filter(|v| v.ready && v.url.is_some() && v.width.is_some() && v.height.is_some())
        .collect();
    v.sort_by_key(|v| v.width);
    // One candidate per width (a small original makes several the same).
    v.dedup_by_key(|v| v.width);
    v
}

/// The smallest version at least `width` wide, else the largest.
fn version_for(image: &Image, width: i64) -> Option<&Version> {
    let v = versions(image);
    v.iter()
        .find(|v| v.width.unwrap_or(0) >= width)
        .or(v.last())
        .copied()
}

/// What an image is called for people: its title, else "Photo".
fn label(image: &Image) -> &str {
    if image.title.trim().is_empty() {
        "Photo"
    } else {
        &image.title
    }
}

/// An `<img>` with every version in its `srcset`, sized for `sizes`.
fn picture(image: &Image, want: i64, sizes: &str, eager: bool, high: bool) -> Markup {
    let all = versions(image);
    let Some(src) = version_for(image, want) else {
        return html! { span.blank role="img" aria-label=(label(image)) {} };
    };
    let srcset = all
        .iter()
        .filter_map(|v| Some(format!("{} {}w", v.url.as_deref()?, v.width?)))
        .collect::<Vec<_>>()
        .join(", ");
    let alt = if image.alt_text.trim().is_empty() {
        label(image)
    } else {
        &image.alt_text
    };
    html! {
        img src=(src.url.as_deref().unwrap_or_default()) srcset=(srcset) sizes=(sizes)
            width=(src.width.unwrap_or(0)) height=(src.height.unwrap_or(0)) alt=(alt)
            loading=(if eager { "eager" } else { "lazy" }) decoding="async"
            fetchpriority=[high.then_some("high")];
    }
}

fn page(frame: &Frame, body: Markup) -> Rendered {
    page_with(frame, StatusCode::OK, body)
}

pub(super) fn page_with(frame: &Frame, status: StatusCode, body: Markup) -> Rendered {
    let site = frame.site;
    let w = &site.website;
    let base = w.url.trim_end_matches('/');
    let canonical = format!("{base}{}", frame.path);
    let css = style(site);
    let mut img_origins: Vec<String> = frame.logo.into_iter().flat_map(|l| origins([l])).collect();
    img_origins.extend(
        frame
            .card
            .and_then(|v| v.url.as_deref())
            .and_then(origin_of),
    );
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) }
                meta name="description" content=(frame.description);
                @if frame.noindex { meta name="robots" content="noindex"; }
                link rel="canonical" href=(canonical);
                @if w.website_type != WebsiteType::Press {
                    link rel="alternate" type="application/atom+xml" title=(w.title) href={ (frame.prefix) "/feed.atom" };
                }
                meta property="og:site_name" content=(w.title);
                meta property="og:title" content=(frame.title);
                meta property="og:description" content=(frame.description);
                meta property="og:url" content=(canonical);
                meta property="og:type" content="website";
                @if let Some(card) = frame.card {
                    meta property="og:image" content=(card.url.as_deref().unwrap_or_default());
                    meta property="og:image:width" content=(card.width.unwrap_or(0));
                    meta property="og:image:height" content=(card.height.unwrap_or(0));
                    meta name="twitter:card" content="summary_large_image";
                } @else {
                    meta name="twitter:card" content="summary";
                }
                meta name="theme-color" content=(w.accent);
                link rel="icon" type="image/svg+xml" href={ (frame.prefix) "/favicon.svg" };
                style { (PreEscaped(&css)) }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    a.home href={ (frame.prefix) "/" } {
                        @if let Some(logo) = frame.logo {
                            (picture(logo, 160, "160px", true, false))
                        }
                        span { (w.title) }
                    }
                    @if w.website_type != WebsiteType::Press || frame.member.is_some() {
                        form.search role="search" method="get" action={ (frame.prefix) "/search" } {
                            label.sr-only for="q" { "Search photos" }
                            input #q type="search" name="q" placeholder="Search photos";
                            button type="submit" { "Search" }
                        }
                    }
                    @if let Some(member) = frame.member {
                        nav.member aria-label="Your press access" {
                            a href={ (frame.prefix) "/account" } { (member.name) }
                            form method="post" action={ (frame.prefix) "/sign-out" } {
                                input type="hidden" name="csrf" value=(member.csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
                @if w.website_type != WebsiteType::Press {
                    footer.site {
                        a href={ (frame.prefix) "/feed.atom" } { "Newest photos (Atom feed)" }
                    }
                }
            }
        }
    };
    Rendered {
        body: markup.into_string(),
        content_type: "text/html; charset=utf-8",
        status,
        style: Some(css),
        img_origins,
    }
}

/// A grid of images linking to their pages.
fn grid(prefix: &str, images: &[Image]) -> Markup {
    html! {
        ul.grid {
            @for (i, image) in images.iter().enumerate() {
                li {
                    a.card href={ (prefix) "/i/" (image.public_uuid) } {
                        (picture(image, 360,
                            "(min-width: 1280px) 16vw, (min-width: 800px) 25vw, calc(50vw - 1.6rem)",
                            i < EAGER, false))
                        span.label { span.name { (label(image)) } }
                    }
                }
            }
        }
    }
}

/// The grid with a checkbox per photo, in a form that asks for a ZIP of
/// the chosen ones (a press member's set page).
fn grid_to_zip(prefix: &str, images: &[Image], member: &SignedMember, offer: Downloads) -> Markup {
    html! {
        form.zip method="post" action={ (prefix) "/zip" } {
            input type="hidden" name="csrf" value=(member.csrf);
            ul.grid {
                @for (i, image) in images.iter().enumerate() {
                    li {
                        a.card href={ (prefix) "/i/" (image.public_uuid) } {
                            (picture(image, 360,
                                "(min-width: 1280px) 16vw, (min-width: 800px) 25vw, calc(50vw - 1.6rem)",
                                i < EAGER, false))
                            span.label { span.name { (label(image)) } }
                        }
                        label.pick {
                            input type="checkbox" name="image" value=(image.public_uuid);
                            " Select" span.sr-only { " " (label(image)) }
                        }
                    }
                }
            }
            p.actions {
                button type="submit" name="version" value="large" { "ZIP of the selected photos (large)" }
                @if offer == Downloads::Original {
                    button type="submit" name="version" value="original" { "ZIP of the selected originals" }
                }
            }
        }
    }
}

/// Child sets as cards with their lead images.
fn sections(prefix: &str, sections: &[Section]) -> Markup {
    html! {
        ul.sections {
            @for (i, s) in sections.iter().enumerate() {
                li {
                    a.card href={ (prefix) "/s/" (s.set.public_uuid) } {
                        @if let Some(lead) = &s.lead {
                            (picture(lead, 640,
                                "(min-width: 1280px) 25vw, (min-width: 800px) 33vw, (min-width: 600px) 50vw, calc(50vw - 1.6rem)",
                                i < 4, i == 0))
                        } @else {
                            span.blank {}
                        }
                        span.label {
                            span.name { (s.set.name) }
                            span.count {
                                @if s.live_images == 0 && s.galleries > 0 {
                                    (galleries(s.galleries))
                                } @else {
                                    (photos(s.live_images))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn galleries(n: usize) -> String {
    if n == 1 {
        "1 gallery".to_owned()
    } else {
        format!("{n} galleries")
    }
}

fn photos(n: i64) -> String {
    if n == 1 {
        "1 photo".to_owned()
    } else {
        format!("{n} photos")
    }
}

/// A query parameter's (decoded) value.
fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `?page=N` (1-based), bad or absent is the first.
fn page_number(query: &[(String, String)]) -> i64 {
    param(query, "page")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| (1..=100_000).contains(n))
        .unwrap_or(1)
}

fn pager(base: &str, sep: &str, number: i64, more: bool) -> Markup {
    html! {
        @if number > 1 || more {
            nav.pages aria-label="Pages" {
                @if number > 1 {
                    a rel="prev" href={ (base) (sep) "page=" (number - 1) } { "← Previous" }
                }
                @if more {
                    a rel="next" href={ (base) (sep) "page=" (number + 1) } { "Next →" }
                }
            }
        }
    }
}

fn excerpt(text: &str, fallback: &str) -> String {
    let text = text.trim();
    let text = if text.is_empty() { fallback } else { text };
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

pub(super) async fn home(
    core: &Core,
    site: &Site,
    prefix: &str,
    member: Option<&SignedMember>,
    now: i64,
) -> Page {
    let logo = site.logo(core).await?;
    let w = &site.website;
    let Some(root) = site.root() else {
        // A private root: the website shows nothing, but it exists.
        let frame = Frame {
            site,
            prefix,
            logo: logo.as_ref(),
            title: w.title.clone(),
            description: excerpt(&w.intro, &w.title),
            path: "/".into(),
            card: None,
            noindex: false,
            member,
        };
        return Ok(Some(page(
            &frame,
            html! { h1 { (w.title) } p { "Nothing to show yet." } },
        )));
    };
    let children = site.sections(core, &root.public_uuid, now).await?;
    let own = site
        .set_images(core, &root.public_uuid, now, PAGE_SIZE, 0)
        .await?;
    let card = children
        .iter()
        .find_map(|s| s.lead.as_ref())
        .or_else(|| own.as_ref().and_then(|o| o.images.first()))
        .and_then(|i| version_for(i, 1200));
    let frame = Frame {
        site,
        prefix,
        logo: logo.as_ref(),
        title: w.title.clone(),
        description: excerpt(&w.intro, &w.title),
        path: "/".into(),
        card,
        noindex: false,
        member,
    };
    let mut r = page(
        &frame,
        html! {
            h1 { (w.title) }
            @if !w.intro.trim().is_empty() { p.intro { (w.intro) } }
            @if !children.is_empty() {
                h2 { "Galleries" }
                (sections(prefix, &children))
            }
            @if let Some(own) = &own && !own.images.is_empty() {
                h2 { "Photos" }
                (grid(prefix, &own.images))
                @if own.more {
                    p { a href={ (prefix) "/s/" (root.public_uuid) "?page=2" } { "More photos →" } }
                }
            }
            @if children.is_empty() && own.as_ref().is_none_or(|o| o.images.is_empty()) {
                p { "Nothing to show yet." }
            }
        },
    );
    r.img_origins
        .extend(origins(children.iter().filter_map(|s| s.lead.as_ref())));
    if let Some(own) = &own {
        r.img_origins.extend(origins(&own.images));
    }
    Ok(Some(r))
}

pub(super) async fn set(
    core: &Core,
    site: &Site,
    prefix: &str,
    member: Option<&SignedMember>,
    id: &str,
    query: &[(String, String)],
    now: i64,
) -> Page {
    let Some(set) = site.set(id).cloned() else {
        return Ok(None);
    };
    let number = page_number(query);
    let Some(images) = site
        .set_images(core, id, now, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        .await?
    else {
        return Ok(None);
    };
    // A page past the end is not a page.
    if number > 1 && images.images.is_empty() {
        return Ok(None);
    }
    let children = site.sections(core, id, now).await?;
    let logo = site.logo(core).await?;
    let trail: Vec<ShownSet> = site.trail(id).into_iter().cloned().collect();
    let path = if number > 1 {
        format!("/s/{id}?page={number}")
    } else {
        format!("/s/{id}")
    };
    let frame = Frame {
        site,
        prefix,
        logo: logo.as_ref(),
        title: format!("{} · {}", set.name, site.website.title),
        description: excerpt(&set.description, &set.name),
        path,
        card: images.images.first().and_then(|i| version_for(i, 1200)),
        noindex: false,
        member,
    };
    let base = format!("{prefix}/s/{id}");
    let mut r = page(
        &frame,
        html! {
            (breadcrumb(prefix, &trail))
            h1 { (set.name) }
            @if !set.description.trim().is_empty() { p.description { (set.description) } }
            @if !children.is_empty() {
                h2 { "Galleries" }
                (sections(prefix, &children))
            }
            @if !images.images.is_empty() {
                h2 { (photos(images.total)) }
                @match member.filter(|_| site.website.downloads != Downloads::None) {
                    Some(member) => (grid_to_zip(prefix, &images.images, member, site.website.downloads)),
                    None => (grid(prefix, &images.images)),
                }
                (pager(&base, "?", number, images.more))
            } @else if children.is_empty() {
                p { "Nothing to show yet." }
            }
        },
    );
    r.img_origins.extend(origins(&images.images));
    r.img_origins
        .extend(origins(children.iter().filter_map(|s| s.lead.as_ref())));
    Ok(Some(r))
}

fn breadcrumb(prefix: &str, trail: &[ShownSet]) -> Markup {
    html! {
        nav.trail aria-label="Breadcrumb" {
            ol {
                li { a href={ (prefix) "/" } { "Home" } }
                @for s in trail.iter().skip(1) {
                    li { a href={ (prefix) "/s/" (s.public_uuid) } { (s.name) } }
                }
            }
        }
    }
}

pub(super) async fn image(
    core: &Core,
    site: &Site,
    prefix: &str,
    member: Option<&SignedMember>,
    id: &str,
    now: i64,
) -> Page {
    let Some((image, live_in)) = site.image(core, id, now).await? else {
        return Ok(None);
    };
    let logo = site.logo(core).await?;
    let copyright = image
        .metadata
        .get("copyright_notice")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty());
    let creator = image
        .metadata
        .get("creator")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty());
    let trail: Vec<ShownSet> = live_in
        .first()
        .map(|s| {
            let mut t: Vec<ShownSet> = site.trail(&s.public_uuid).into_iter().cloned().collect();
            t.push(s.clone());
            t
        })
        .unwrap_or_default();
    let frame = Frame {
        site,
        prefix,
        logo: logo.as_ref(),
        title: format!("{} · {}", label(&image), site.website.title),
        description: excerpt(&image.description, label(&image)),
        path: format!("/i/{id}"),
        card: version_for(&image, 1200),
        noindex: false,
        member,
    };
    let mut r = page(
        &frame,
        html! {
            (breadcrumb(prefix, &trail))
            h1 { (label(&image)) }
            figure.photo {
                (picture(&image, 1600, "(min-width: 1280px) 1240px, calc(100vw - 2.5rem)", true, true))
                @if !image.description.trim().is_empty() {
                    figcaption { (image.description) }
                }
            }
            dl.facts {
                @for credit in &image.credits {
                    dt { (credit.role) } dd { (credit.name) }
                }
                @if image.credits.is_empty() && let Some(creator) = creator {
                    dt { "Photo" } dd { (creator) }
                }
                @if let Some(date) = image.creation_date.as_deref().and_then(|d| d.get(..10)) {
                    dt { "Taken" } dd { time datetime=(date) { (date) } }
                }
                @if let Some(c) = copyright {
                    dt { "Copyright" } dd { (c) }
                }
            }
            @if let Some(member) = member {
                (download_forms(prefix, member, &image, site.website.downloads))
            }
            @if !live_in.is_empty() {
                h2 { "In" }
                ul {
                    @for s in &live_in {
                        li { a href={ (prefix) "/s/" (s.public_uuid) } { (s.name) } }
                    }
                }
            }
        },
    );
    r.img_origins.extend(origins([&image]));
    Ok(Some(r))
}

/// A press member's download buttons: the versions the website offers,
/// each a form (a download is logged, so never a link a browser might
/// prefetch).
fn download_forms(prefix: &str, member: &SignedMember, image: &Image, offer: Downloads) -> Markup {
    let large = image.versions.iter().find(|v| v.name == "large");
    html! {
        @if offer != Downloads::None {
            h2 { "Download" }
            form.downloads method="post" action={ (prefix) "/d/" (image.public_uuid) } {
                input type="hidden" name="csrf" value=(member.csrf);
                @if let Some(v) = large {
                    button type="submit" name="version" value="large" {
                        "Large (" (v.width.unwrap_or(0)) " × " (v.height.unwrap_or(0)) ")"
                    }
                }
                @if offer == Downloads::Original {
                    button type="submit" name="version" value="original" {
                        "Original (" (image.width.unwrap_or(0)) " × " (image.height.unwrap_or(0)) ")"
                    }
                }
            }
        }
    }
}

pub(super) async fn search(
    core: &Core,
    site: &Site,
    prefix: &str,
    member: Option<&SignedMember>,
    query: &[(String, String)],
) -> Page {
    let logo = site.logo(core).await?;
    let text = param(query, "q").unwrap_or_default().to_owned();
    let number = page_number(query);
    let title = if text.trim().is_empty() {
        format!("Search · {}", site.website.title)
    } else {
        format!("“{}” · {}", text.trim(), site.website.title)
    };
    let frame = Frame {
        site,
        prefix,
        logo: logo.as_ref(),
        title,
        description: format!("Search the photos of {}", site.website.title),
        path: "/search".into(),
        card: None,
        noindex: true,
        member,
    };
    let form = html! {
        h1 { "Search" }
        form method="get" action={ (prefix) "/search" } {
            label for="search-q" { "Words to look for" }
            " "
            input #search-q type="search" name="q" value=(text);
            " "
            button type="submit" { "Search" }
        }
    };
    if text.trim().is_empty() {
        return Ok(Some(page(&frame, form)));
    }
    let parsed = if text.chars().any(char::is_control) {
        Err("the search must not contain control characters".to_owned())
    } else {
        lightbox_search::parse(&text).map_err(|e| e.to_string())
    };
    let parsed = match parsed {
        Ok(p) => p,
        Err(why) => {
            return Ok(Some(page_with(
                &frame,
                StatusCode::BAD_REQUEST,
                html! {
                    (form)
                    p role="alert" { "That search cannot be read: " (why)
                        " (syntax: word, +must, -exclude, \"exact phrase\", prefix*)." }
                },
            )));
        }
    };
    let (images, more) = site
        .search(core, parsed, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        .await?;
    let base = format!("{prefix}/search?q={}", crate::form::url_encode(&text));
    let mut r = page(
        &frame,
        html! {
            (form)
            @if images.is_empty() {
                p role="status" { "No photos match." }
            } @else {
                h2 { "Photos" }
                (grid(prefix, &images))
                (pager(&base, "&", number, more))
            }
        },
    );
    r.img_origins.extend(origins(&images));
    Ok(Some(r))
}

/// Escapes text for XML.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn text(body: String, content_type: &'static str) -> Rendered {
    Rendered {
        body,
        content_type,
        status: StatusCode::OK,
        style: None,
        img_origins: Vec::new(),
    }
}

pub(super) async fn feed(core: &Core, site: &Site, now: i64) -> Page {
    let newest = site.newest(core, now, FEED_SIZE).await?;
    let w = &site.website;
    let base = w.url.trim_end_matches('/');
    let updated = newest
        .first()
        .map_or_else(|| w.updated_at.clone(), |(_, at)| at.clone());
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<id>urn:uuid:{}</id>\n<updated>{}</updated>\n\
         <link rel=\"alternate\" href=\"{}/\"/>\n<link rel=\"self\" href=\"{}/feed.atom\"/>\n",
        xml(&w.title),
        w.public_uuid,
        xml(&updated),
        xml(base),
        xml(base)
    ));
    for (image, at) in &newest {
        let link = format!("{base}/i/{}", image.public_uuid);
        let picture = version_for(image, 1200)
            .and_then(|v| v.url.as_deref())
            .map(|src| {
                format!(
                    "<p><img src=\"{}\" alt=\"{}\"/></p>",
                    xml(src),
                    xml(if image.alt_text.is_empty() {
                        label(image)
                    } else {
                        &image.alt_text
                    })
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>urn:uuid:{}</id>\n<updated>{}</updated>\n\
             <link rel=\"alternate\" href=\"{}\"/>\n<author><name>{}</name></author>\n\
             <content type=\"html\">{}</content>\n</entry>\n",
            xml(label(image)),
            image.public_uuid,
            xml(at),
            xml(&link),
            xml(&w.title),
            xml(&format!("{picture}<p>{}</p>", xml(&image.description)))
        ));
    }
    out.push_str("</feed>\n");
    Ok(Some(text(out, "application/atom+xml; charset=utf-8")))
}

pub(super) async fn sitemap(core: &Core, site: &Site, now: i64) -> Page {
    let base = site.website.url.trim_end_matches('/').to_owned();
    let sets = site.sets();
    let room = SITEMAP_MAX - i64::try_from(sets.len()).unwrap_or(SITEMAP_MAX);
    let newest = site.newest_ids(core, now, room.max(0)).await?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    out.push_str(&format!("<url><loc>{}/</loc></url>\n", xml(&base)));
    for set in sets.iter().skip(usize::from(site.root().is_some())) {
        out.push_str(&format!(
            "<url><loc>{}/s/{}</loc></url>\n",
            xml(&base),
            set.public_uuid
        ));
    }
    for (id, at) in &newest {
        out.push_str(&format!(
            "<url><loc>{}/i/{id}</loc><lastmod>{}</lastmod></url>\n",
            xml(&base),
            xml(at)
        ));
    }
    out.push_str("</urlset>\n");
    Ok(Some(text(out, "application/xml; charset=utf-8")))
}

/// The website's icon: a rounded square in its accent colour.
pub(super) fn icon(site: &Site) -> Option<Rendered> {
    Some(text(
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">\
             <rect width=\"32\" height=\"32\" rx=\"7\" fill=\"{}\"/></svg>\n",
            xml(&site.website.accent)
        ),
        "image/svg+xml",
    ))
}

/// A website that crawlers must leave alone (a press website).
pub(super) fn robots_none() -> Rendered {
    text(
        "User-agent: *\nDisallow: /\n".to_owned(),
        "text/plain; charset=utf-8",
    )
}

pub(super) fn robots(site: &Site) -> Option<Rendered> {
    let base = site.website.url.trim_end_matches('/');
    Some(text(
        format!("User-agent: *\nAllow: /\nDisallow: /search\nSitemap: {base}/sitemap.xml\n"),
        "text/plain; charset=utf-8",
    ))
}

/// The one "not here" page of a website: the same bytes for a set or an
/// image that is hidden, private, embargoed, another account's or never
/// existed.
pub(super) fn not_found(site: &Site, prefix: &str) -> Rendered {
    let frame = Frame {
        site,
        prefix,
        logo: None,
        title: format!("Not found · {}", site.website.title),
        description: "There is nothing at this address.".into(),
        path: "/".into(),
        card: None,
        noindex: true,
        member: None,
    };
    page_with(
        &frame,
        StatusCode::NOT_FOUND,
        html! {
            h1 { "Not found" }
            p { "There is nothing at this address." }
            p { a href={ (prefix) "/" } { "Go to the home page" } }
        },
    )
}

/// No website at this address.
pub(super) fn no_website() -> Rendered {
    bare(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no website at this address.",
    )
}

/// The server could not read what the page needs.
pub(super) fn failed(e: &CoreError) -> Rendered {
    if e.kind == ErrorKind::Unavailable {
        bare(
            StatusCode::SERVICE_UNAVAILABLE,
            "Back soon",
            "This website cannot be shown right now. Try again in a moment.",
        )
    } else {
        tracing::error!(error = %e.message, "website page");
        bare(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "This page cannot be shown right now. Try again in a moment.",
        )
    }
}

pub(super) fn bare(status: StatusCode, title: &str, message: &str) -> Rendered {
    let css = CSS.to_owned();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (PreEscaped(&css)) }
            }
            body { main #main { h1 { (title) } p { (message) } } }
        }
    };
    Rendered {
        body: markup.into_string(),
        content_type: "text/html; charset=utf-8",
        status,
        style: Some(css),
        img_origins: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_reads_on_any_accent() {
        assert_eq!(ink_on("#1d4ed8"), "#ffffff");
        assert_eq!(ink_on("#000000"), "#ffffff");
        assert_eq!(ink_on("#ffffff"), "#000000");
        assert_eq!(ink_on("#ffd700"), "#000000");
    }

    #[test]
    fn xml_escapes_and_drops_what_xml_cannot_carry() {
        assert_eq!(xml("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;");
    }

    #[test]
    fn page_numbers_are_bounded() {
        let page = |v: &str| page_number(&[("page".to_owned(), v.to_owned())]);
        assert_eq!(page("3"), 3);
        assert_eq!(page("0"), 1);
        assert_eq!(page("-1"), 1);
        assert_eq!(page("abc"), 1);
        assert_eq!(page_number(&[]), 1);
    }
}
