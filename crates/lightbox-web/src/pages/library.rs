//! The library: a grid of thumbnails with every `GET /v1/images` filter
//! (the same parser, so the same rules and messages), an image page
//! (versions, metadata, keywords, sets) and the set tree.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::CoreError;
use lightbox_core::downloads::{self, NewDownload};
use lightbox_core::image_filters::{ImageFilter, is_filter_param};
use lightbox_core::images::{self, Image};
use lightbox_core::sets;
use maud::{Markup, html};

use crate::WebState;
use crate::form::url_encode;
use crate::page::{self, Section};
use crate::pages::bulk;
use crate::session::{Signed, SignedForm};

const PAGE_SIZE: i64 = 48;

pub async fn home() -> Response {
    Redirect::to("/admin/library").into_response()
}

/// The URL of a version by name, when it is ready.
fn version_url<'a>(image: &'a Image, name: &str) -> Option<&'a str> {
    image
        .versions
        .iter()
        .find(|v| v.name == name && v.ready)
        .and_then(|v| v.url.as_deref())
}

/// The query string of these filters (empty values left out), plus extras.
fn query_string(params: &[(String, String)], extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<String> = params
        .iter()
        .filter(|(k, v)| !v.is_empty() && k != "offset")
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    pairs.extend(
        extra
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))),
    );
    pairs.join("&")
}

fn select(id: &str, label: &str, current: &str, choices: &[(&str, &str)]) -> Markup {
    html! {
        div {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                @for (value, text) in choices {
                    option value=(value) selected[*value == current] { (text) }
                }
            }
        }
    }
}

fn text_input(id: &str, label: &str, kind: &str, current: &str) -> Markup {
    html! {
        div {
            label for=(id) { (label) }
            input id=(id) type=(kind) name=(id) value=(current);
        }
    }
}

const RATINGS: [(&str, &str); 7] = [
    ("", "Any"),
    ("0", "0"),
    ("1", "1"),
    ("2", "2"),
    ("3", "3"),
    ("4", "4"),
    ("5", "5"),
];
const YES_NO: [(&str, &str); 3] = [("", "Any"), ("true", "Yes"), ("false", "No")];

fn filters_form(p: &HashMap<String, String>, set_name: Option<&str>) -> Markup {
    let v = |name: &str| p.get(name).map(String::as_str).unwrap_or_default();
    html! {
        form.filters method="get" action="/admin/library" role="search" aria-label="Filter the library" {
            div.wide {
                label for="query" { "Search" }
                input #query type="search" name="query" value=(v("query"))
                    placeholder="concert \"main stage\" -rehearsal mari*" aria-describedby="query-hint";
                p.hint #query-hint { "Words, +must, -exclude, \"exact phrase\", prefix*." }
            }
            (text_input("keyword", "Keyword", "text", v("keyword")))
            (select("rating", "Rating", v("rating"), &RATINGS))
            (select("min_rating", "Rating at least", v("min_rating"), &RATINGS))
            (select("sort", "Order", v("sort"), &[("", "Default"), ("newest", "Newest upload"), ("oldest", "Oldest upload"), ("taken", "Taken, newest"), ("relevance", "Best match")]))
            (select("has_video", "Videos", v("has_video"), &YES_NO))
            (text_input("created_at_from", "Uploaded from", "date", v("created_at_from")))
            (text_input("created_at_to", "Uploaded to", "date", v("created_at_to")))
            details.wide {
                summary { "More filters" }
                div.filters {
                    (text_input("namespace", "Keyword axis", "text", v("namespace")))
                    (text_input("creation_date_from", "Taken from", "date", v("creation_date_from")))
                    (text_input("creation_date_to", "Taken to", "date", v("creation_date_to")))
                    (text_input("updated_at_from", "Changed from", "date", v("updated_at_from")))
                    (text_input("updated_at_to", "Changed to", "date", v("updated_at_to")))
                    (select("has_geo", "With location", v("has_geo"), &YES_NO))
                    (text_input("bbox", "Map box (west,south,east,north)", "text", v("bbox")))
                    (text_input("exif_property", "Exif property", "text", v("exif_property")))
                    (text_input("exif_value", "Exif value", "text", v("exif_value")))
                }
            }
            @if let Some(set) = p.get("set_public_uuid").filter(|s| !s.is_empty()) {
                input type="hidden" name="set_public_uuid" value=(set);
                div.wide {
                    p {
                        "In the set " strong { (set_name.unwrap_or(set)) } " · "
                        a href="/admin/library" { "all images" }
                    }
                    (select("live", "Live on the gallery", v("live"), &YES_NO))
                }
            }
            div.actions.wide {
                button type="submit" { "Show" }
                a href="/admin/library" { "Clear" }
            }
        }
    }
}

fn tile(image: &Image) -> Markup {
    let label = if image.title.is_empty() {
        &image.filename
    } else {
        &image.title
    };
    html! {
        li {
            // Belongs to the bulk form around the grid.
            input.pick type="checkbox" name="image" value=(image.public_uuid) aria-label={ "Select " (label) };
            a href={ "/admin/library/" (image.public_uuid) } {
                @match version_url(image, "thumbnail") {
                    Some(url) => img src=(url) alt=(if image.alt_text.is_empty() { label } else { &image.alt_text }) loading="lazy";
                    None => span.noimage { "No preview yet" }
                }
                span.name { (label) }
                span.meta {
                    span.stars { @if image.rating > 0 { "★ " (image.rating) " · " } }
                    @if image.is_video { "video · " }
                    (page::bytes(image.bytes))
                }
            }
        }
    }
}

pub async fn grid(
    State(state): State<WebState>,
    Signed(user): Signed,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    // Empty form fields mean "any", not an empty filter.
    let p: HashMap<String, String> = params
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    let offset = p
        .get("offset")
        .and_then(|o| o.parse::<i64>().ok())
        .filter(|o| *o >= 0)
        .unwrap_or(0);
    let set_name = match p.get("set_public_uuid") {
        Some(id) => sets::get(&state.core, &user.account.uuid, id)
            .await
            .ok()
            .map(|s| s.name),
        None => None,
    };
    let filter = ImageFilter::from_query(|name| {
        is_filter_param(name)
            .then(|| p.get(name).map(String::as_str))
            .flatten()
    });
    let listed: Result<(Vec<Image>, bool), CoreError> = match filter {
        Ok(filter) => {
            images::list(&state.core, &user.account.uuid, &filter, PAGE_SIZE, offset).await
        }
        Err(e) => Err(e),
    };
    let (error, items, more) = match listed {
        Ok((items, more)) => (None, items, more),
        Err(e) if e.kind == lightbox_core::ErrorKind::Internal => {
            return page::error(Some(&user), &e);
        }
        Err(e) => (Some(e), Vec::new(), false),
    };
    let kept: Vec<(String, String)> = p.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let sets = match crate::pages::websites::set_choices(&state, &user).await {
        Ok(s) => s,
        Err(e) => return page::error(Some(&user), &e),
    };
    page::respond(page::shell(
        Some(&user),
        Section::Library,
        "Library",
        html! {
            (filters_form(&p, set_name.as_deref()))
            (page::problem(error.as_ref()))
            @if error.is_none() {
                p role="status" #result-count {
                    @if items.is_empty() { "No images match." }
                    @else { "Images " (offset + 1) "–" (offset + i64::try_from(items.len()).unwrap_or(0)) @if more { " (more follow)" } }
                }
            }
            @if !items.is_empty() {
                form #bulk method="post" action="/admin/library/bulk" {
                    (bulk::bar(&user, &sets, &kept))
                    // Needs the script; shown by it.
                    div.select-all hidden {
                        label.check {
                            input #select-all type="checkbox";
                            span { "Select all on this page" }
                        }
                        p.hint { "Keys 0 to 5 rate the image in focus, or every ticked image." }
                    }
                    ul.grid #images { @for image in &items { (tile(image)) } }
                }
                script src="/admin/assets/bulk.js" defer {}
            }
            nav.pager aria-label="Pages" {
                @if offset > 0 {
                    a rel="prev" href={ "/admin/library?" (query_string(&kept, &[("offset", (offset - PAGE_SIZE).max(0).to_string())])) } { "← Previous" }
                }
                @if more {
                    a rel="next" href={ "/admin/library?" (query_string(&kept, &[("offset", (offset + PAGE_SIZE).to_string())])) } { "Next →" }
                }
            }
        },
    ))
}

pub async fn image(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(uuid): Path<String>,
) -> Response {
    let image = match images::get(&state.core, &user.account.uuid, &uuid).await {
        Ok(i) => i,
        Err(e) => return page::error(Some(&user), &e),
    };
    let title = if image.title.is_empty() {
        image.filename.clone()
    } else {
        image.title.clone()
    };
    let preview = version_url(&image, "large")
        .or_else(|| version_url(&image, "medium"))
        .or_else(|| version_url(&image, "thumbnail"));
    page::respond(page::shell(
        Some(&user),
        Section::Library,
        &title,
        html! {
            div.actions {
                a href="/admin/library" { "← Library" }
                a.button href={ "/admin/library/" (image.public_uuid) "/edit" } { "Edit" }
                form.inline method="post" action={ "/admin/library/" (image.public_uuid) "/download" } {
                    (page::csrf(&user))
                    button.secondary type="submit" { "Download" }
                }
            }
            div.image-page {
                div {
                    @if let Some(url) = preview {
                        figure.preview {
                            img src=(url) alt=(if image.alt_text.is_empty() { &title } else { &image.alt_text });
                        }
                    }
                }
                div {
                h2 { "Details" }
                dl.facts #facts {
                    dt { "File" } dd { (image.filename) }
                    dt { "Title" } dd { @if image.title.is_empty() { "—" } @else { (image.title) } }
                    dt { "Description" } dd { @if image.description.is_empty() { "—" } @else { (image.description) } }
                    dt { "Alt text" } dd { @if image.alt_text.is_empty() { "—" } @else { (image.alt_text) } }
                    dt { "Rating" } dd { (image.rating) " of 5" }
                    dt { "Taken" } dd { (page::when_or(image.creation_date.as_deref(), "unknown")) }
                    dt { "Uploaded" } dd {
                        (page::when(&image.created_at))
                        @if let Some(by) = &image.uploaded_by { " by " (by.name) }
                    }
                    dt { "Changed" } dd { (page::when(&image.updated_at)) }
                    dt { "Size" } dd {
                        @if let (Some(w), Some(h)) = (image.width, image.height) { (w) " × " (h) " px · " }
                        (page::bytes(image.bytes)) " · " (image.content_type)
                    }
                    @if let Some(geo) = &image.geo { dt { "Location" } dd { (format!("{:.5}, {:.5}", geo.lat, geo.lng)) } }
                    @if !image.credits.is_empty() {
                        dt { "Credits" } dd { @for c in &image.credits { (c.role) ": " (c.name) br; } }
                    }
                    dt { "SHA-256" } dd { code { (image.sha256) } }
                }
                }
            }
            h2 { "Keywords" }
            @if image.keywords.is_empty() { p { "None." } } @else {
                ul #keywords {
                    @for k in &image.keywords {
                        li { a href={ "/admin/library?keyword=" (url_encode(&k.keyword)) } { (k.keyword) } }
                    }
                }
            }
            h2 { "Sets" }
            @if image.sets.is_empty() { p { "In no set." } } @else {
                ul #sets {
                    @for s in &image.sets {
                        li {
                            a href={ "/admin/library?set_public_uuid=" (s.public_uuid) } { (s.name) }
                            " "
                            @if s.hidden { span.badge.off { "hidden" } }
                            @else if let Some(at) = &s.activation_time { span.badge { "live from " (page::when(at)) } }
                            @else { span.badge.on { "live" } }
                        }
                    }
                }
            }
            h2 { "Versions" }
            div.table-wrap {
                table.stackable #versions {
                    thead { tr { th { "Version" } th { "Size" } th { "Type" } th { "Bytes" } th { "Access" } } }
                    tbody {
                        @for v in &image.versions {
                            tr {
                                td data-label="Version" {
                                    @match (&v.url, v.ready) {
                                        (Some(url), true) => a href=(url) { (v.name) },
                                        _ => (v.name),
                                    }
                                    @if !v.ready { " " span.badge { "not ready" } }
                                }
                                td data-label="Size" {
                                    @if let (Some(w), Some(h)) = (v.width, v.height) { (w) " × " (h) } @else { "—" }
                                }
                                td data-label="Type" { (v.content_type.as_deref().unwrap_or("—")) }
                                td data-label="Bytes" { @if let Some(b) = v.bytes { (page::bytes(b)) } @else { "—" } }
                                td data-label="Access" { (v.access) }
                            }
                        }
                    }
                }
            }
            @if let Some(why) = &image.versions_error { div.problem role="alert" { p { "Versions could not be made: " (why) } } }
        },
    ))
}

/// A signed link to the largest version the person may have (the
/// original, unless their role limits them), as `POST /v1/downloads`
/// makes it; the browser is sent straight to it.
pub async fn download(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    signed: SignedForm,
) -> Response {
    let user = &signed.user;
    let ask = NewDownload {
        image_public_uuid: uuid,
        version: None,
    };
    match downloads::create(&state.core, &user.principal(), ask).await {
        Ok(link) => Redirect::to(&link.url).into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightbox_core::image_filters::FILTER_PARAMS;

    /// The form offers every filter the API has (a set's own only inside a
    /// set), so a filter added to the list cannot be forgotten here.
    #[test]
    fn the_form_offers_every_filter() {
        let mut in_set = HashMap::new();
        in_set.insert(
            "set_public_uuid".to_owned(),
            "6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa".to_owned(),
        );
        let form = filters_form(&in_set, Some("Main stage")).into_string();
        for param in FILTER_PARAMS {
            assert!(
                form.contains(&format!("name=\"{}\"", param.name)),
                "the library form has no {} field",
                param.name
            );
        }
        // Outside a set, the set's filters are not offered.
        let form = filters_form(&HashMap::new(), None).into_string();
        assert!(!form.contains("name=\"live\""));
    }
}
