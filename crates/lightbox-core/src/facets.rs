//! `GET /v1/facets`: counts over the filtered library (the filters of
//! `GET /v1/images`, `query` included), per requested field, from the
//! search index's fast columns.

use std::collections::BTreeMap;

use lightbox_search::{FacetField, FacetValue};
use serde::Serialize;
use serde_json::Value;

use crate::Core;
use crate::error::CoreError;
use crate::image_filters::ImageFilter;

/// Fields counted when `fields` is left out.
pub const DEFAULT_FIELDS: &str = "rating,namespace,creation_year,has_geo,has_video";
/// Most fields in one request.
pub const FIELDS_MAX: usize = 20;

/// One value of a field and how many images of the filtered set have it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacetEntry {
    /// A number (`rating`, `creation_year`), a boolean (`has_geo`,
    /// `has_video`) or text (keywords, namespaces, Exif values,
    /// `creation_month` as `YYYY-MM`, set uuids).
    #[schema(value_type = Value)]
    pub value: Value,
    pub count: u64,
}

/// Reads `fields` (a comma list; see [`DEFAULT_FIELDS`]).
pub fn parse_fields(text: Option<&str>) -> Result<Vec<FacetField>, CoreError> {
    let text = text.unwrap_or(DEFAULT_FIELDS);
    let mut out: Vec<FacetField> = Vec::new();
    for name in text.split(',') {
        let field = FacetField::parse(name).ok_or_else(|| {
            CoreError::validation(
                "fields",
                format!(
                    "Unknown facet field {name:?}; use rating, namespace, keyword, keyword:<namespace>, \
                     exif:<property>, creation_year, creation_month, has_geo, has_video or set."
                ),
            )
        })?;
        if !out.contains(&field) {
            out.push(field);
        }
    }
    if out.len() > FIELDS_MAX {
        return Err(CoreError::validation(
            "fields",
            format!("At most {FIELDS_MAX} facet fields per request."),
        ));
    }
    Ok(out)
}

pub async fn count(
    core: &Core,
    account_id: &str,
    filter: &ImageFilter,
    fields: Vec<FacetField>,
) -> Result<BTreeMap<String, Vec<FacetEntry>>, CoreError> {
    let search = core.synced_search().await?;
    let index = search.index().clone();
    let (query, list, now) = (filter.query.clone(), filter.list.clone(), core.now());
    let account = account_id.to_owned();
    let counted = tokio::task::spawn_blocking(move || {
        index.facets(&account, query.as_ref(), &list, now, &fields)
    })
    .await
    .map_err(|_| CoreError::internal())?
    .map_err(|e| {
        tracing::error!(error = %e, "facets");
        CoreError::internal()
    })?;
    Ok(counted
        .into_iter()
        .map(|(field, counts)| {
            let entries = counts
                .into_iter()
                .map(|c| FacetEntry {
                    value: match c.value {
                        FacetValue::Int(n) => Value::from(n),
                        FacetValue::Text(t) => Value::from(t),
                        FacetValue::Bool(b) => Value::from(b),
                    },
                    count: c.count,
                })
                .collect();
            (field.name(), entries)
        })
        .collect())
}
