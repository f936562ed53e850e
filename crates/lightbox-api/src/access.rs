//! Who may call what. Each `/v1` handler declares its requirement once, in
//! its `#[utoipa::path(security(("bearer" = ["api.sets.write"])))]`
//! attribute (an empty list: any credential of the account; a role name
//! such as `"role:admin"`: a person's token with that role; `security(())`:
//! no credential, for the calls that carry their own). This module
//! reads those declarations back from the generated OpenAPI document, so the
//! document and the enforcement cannot disagree. A `/v1` route without a
//! declaration is refused at runtime (fail closed) and by a test.

use std::collections::HashMap;

use lightbox_core::scope::Access;
use utoipa::openapi::OpenApi;

pub const SCHEME: &str = "bearer";

#[derive(Debug, Default)]
pub struct AccessTable {
    /// path template → (METHOD, access); looked up without allocating.
    by_route: HashMap<String, Vec<(String, Access)>>,
    /// path template → (METHOD, the query parameters it declares).
    queries: HashMap<String, Vec<(String, Vec<String>)>>,
}

impl AccessTable {
    /// Builds the table; `Err` lists operations whose declaration is missing
    /// or names an unknown scope.
    pub fn from_openapi(doc: &OpenApi) -> Result<Self, Vec<String>> {
        let mut table = AccessTable::default();
        let mut problems = Vec::new();
        let paths = serde_json::to_value(&doc.paths).unwrap_or_default();
        let Some(paths) = paths.as_object() else {
            return Ok(table);
        };
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !is_method(method) {
                    continue;
                }
                table
                    .queries
                    .entry(path.clone())
                    .or_default()
                    .push((method.to_uppercase(), query_params(op)));
                match declared_access(op) {
                    Some(access) => {
                        table
                            .by_route
                            .entry(path.clone())
                            .or_default()
                            .push((method.to_uppercase(), access));
                    }
                    None if path.starts_with("/v1/") => {
                        problems.push(format!("{} {path}", method.to_uppercase()))
                    }
                    None => {}
                }
            }
        }
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, method: &str, path: &str) -> Option<Access> {
        self.by_route
            .get(path)?
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, a)| *a)
    }

    /// The query parameters the route declares (what it accepts).
    pub fn query_params(&self, method: &str, path: &str) -> Option<&[String]> {
        self.queries
            .get(path)?
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, names)| names.as_slice())
    }

    /// True when some method of this path is declared.
    pub fn has_path(&self, path: &str) -> bool {
        self.by_route.contains_key(path)
    }

    pub fn len(&self) -> usize {
        self.by_route.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_route.is_empty()
    }

    pub fn routes(&self) -> impl Iterator<Item = (&str, &str, Access)> {
        self.by_route.iter().flat_map(|(p, methods)| {
            methods
                .iter()
                .map(move |(m, a)| (m.as_str(), p.as_str(), *a))
        })
    }
}

fn is_method(name: &str) -> bool {
    matches!(
        name,
        "get" | "put" | "post" | "delete" | "patch" | "head" | "options" | "trace"
    )
}

fn query_params(op: &serde_json::Value) -> Vec<String> {
    op.get("parameters")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter(|p| p.get("in").and_then(|i| i.as_str()) == Some("query"))
        .filter_map(|p| p.get("name")?.as_str().map(str::to_owned))
        .collect()
}

fn declared_access(op: &serde_json::Value) -> Option<Access> {
    let requirements = op.get("security")?.as_array()?;
    let [requirement] = requirements.as_slice() else {
        return None;
    };
    // `security(())`: an empty requirement, i.e. no credential.
    if requirement.as_object().is_some_and(|o| o.is_empty()) {
        return Some(Access::Public);
    }
    let scopes = requirement.get(SCHEME)?.as_array()?;
    match scopes.as_slice() {
        [] => Some(Access::AnyCredential),
        [one] => Access::parse_declared(one.as_str()?),
        _ => None,
    }
}
