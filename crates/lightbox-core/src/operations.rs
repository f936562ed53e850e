//! Operations: what every write answers with, and what clients poll.

use lightbox_store::operations::{self, OperationRow};
use lightbox_store::{JsonText, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::clock::format_rfc3339;
use crate::error::{CoreError, ErrorKind};
use crate::{Core, ids};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperationStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Queued => "queued",
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The error object of a failed operation (same shape as the wire error,
/// without the request id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct OperationError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub field: Option<String>,
}

impl From<&CoreError> for OperationError {
    fn from(e: &CoreError) -> Self {
        Self {
            code: e.kind.code().to_owned(),
            message: e.message.clone(),
            detail: e.detail.clone(),
            field: e.field.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Operation {
    #[schema(example = "op-0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f")]
    pub uuid: String,
    pub status: OperationStatus,
    /// What the write was, e.g. `update` (`PATCH /v1/images/{id}`), `set.create`.
    #[serde(rename = "type")]
    #[schema(example = "update")]
    pub kind: String,
    pub image_public_uuids: Vec<String>,
    pub set_public_uuid: Option<String>,
    /// What the work produced: always a readable `message`, plus the data
    /// (e.g. `set`, `token`; for long work, progress `done`, `total`).
    #[schema(value_type = Object, example = json!({"message": "Updated successfully."}))]
    pub result: Value,
    pub error: Option<OperationError>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

impl Operation {
    pub fn from_row(row: &OperationRow) -> Result<Self, CoreError> {
        let corrupt = || {
            CoreError::new(
                ErrorKind::Internal,
                format!("stored operation {} is invalid", row.id),
            )
        };
        let status = OperationStatus::parse(&row.status).ok_or_else(corrupt)?;
        let error: Option<OperationError> = row
            .error
            .as_ref()
            .map(JsonText::as_str)
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| corrupt())?;
        let mut result: Value = serde_json::from_str(row.result.as_str()).map_err(|_| corrupt())?;
        with_message(&mut result, &row.kind, status, error.as_ref());
        Ok(Self {
            uuid: row.id.clone(),
            status,
            kind: row.kind.clone(),
            image_public_uuids: serde_json::from_str(row.image_public_uuids.as_str())
                .map_err(|_| corrupt())?,
            set_public_uuid: row.set_public_uuid.clone(),
            result,
            error,
            created_at: format_rfc3339(row.created_at),
            updated_at: format_rfc3339(row.updated_at),
            finished_at: row.finished_at.map(format_rfc3339),
        })
    }
}

/// Every Operation's `result` carries a readable `message` (spec §3), next
/// to whatever else the work reported. Added when read, so every kind —
/// quick writes, jobs, progress, failures — has one, and a message the work
/// set itself wins.
fn with_message(
    result: &mut Value,
    kind: &str,
    status: OperationStatus,
    error: Option<&OperationError>,
) {
    if !result.is_object() {
        *result = Value::Object(serde_json::Map::new());
    }
    let Some(fields) = result.as_object_mut() else {
        return;
    };
    if fields.contains_key("message") {
        return;
    }
    let count = |name: &str| fields.get(name).and_then(Value::as_i64);
    let message = match status {
        OperationStatus::Queued => "Waiting to run.".to_owned(),
        OperationStatus::Running => match (count("done"), count("total")) {
            (Some(done), Some(total)) => format!("Running: {done} of {total} done."),
            _ => "Running.".to_owned(),
        },
        OperationStatus::Failed => match error {
            Some(e) => format!("Failed: {}", e.message),
            None => "Failed.".to_owned(),
        },
        OperationStatus::Succeeded => succeeded_message(kind).to_owned(),
    };
    fields.insert("message".to_owned(), Value::String(message));
}

fn succeeded_message(kind: &str) -> &'static str {
    match kind {
        // The hosted service's words for `PATCH /v1/images/{id}`.
        "update" => "Updated successfully.",
        "image.delete" => "Deleted successfully.",
        "image.upload" => "Uploaded successfully.",
        "image.versions" => "Versions built successfully.",
        "keywords.add" => "Keywords added successfully.",
        "keywords.remove" => "Keyword removed successfully.",
        "keywords.rename" => "Keyword renamed successfully.",
        "metadata.update" => "Metadata updated successfully.",
        "metadata.extract" => "Metadata extracted successfully.",
        "rating.update" => "Rating updated successfully.",
        "crop.update" => "Crop updated successfully.",
        "crop.delete" => "Crop cleared successfully.",
        "alt_text.update" => "Alt text updated successfully.",
        "credits.add" => "Credit added successfully.",
        "credits.remove" => "Credit removed successfully.",
        "batch" => "Batch applied successfully.",
        "set.create" => "Set created successfully.",
        "set.update" => "Set updated successfully.",
        "set.reorder" => "Sets reordered successfully.",
        "set.images.add" => "Images added to the set successfully.",
        "set.images.remove" => "Images removed from the set successfully.",
        "set.order" => "Set order updated successfully.",
        "set.visibility" => "Visibility updated successfully.",
        "set.restore" => "Set restored successfully.",
        "set.arrange" => "Set updated successfully.",
        "archive.build" => "Archive built successfully.",
        "archive.expire" => "Archive expired and deleted.",
        "service_token.create" => "Service token created successfully.",
        "service_token.revoke" => "Service token revoked successfully.",
        _ => "Done successfully.",
    }
}

/// An operation of the caller's account.
pub async fn get(core: &Core, account_id: &str, uuid: &str) -> Result<Operation, CoreError> {
    let not_found = || {
        CoreError::new(
            ErrorKind::OperationNotFound,
            format!("No operation {uuid}."),
        )
    };
    if !ids::is_operation_id(uuid) {
        return Err(not_found());
    }
    let mut conn = core.store.read().await?;
    let row = operations::find(&mut conn, account_id, uuid)
        .await?
        .ok_or_else(not_found)?;
    Operation::from_row(&row)
}

/// Records a running job's progress in its Operation's `result`.
pub async fn report_progress(
    core: &Core,
    operation_id: &str,
    progress: &serde_json::Value,
) -> Result<(), CoreError> {
    let mut tx = core.store.begin_write().await?;
    operations::set_status(
        &mut tx,
        operation_id,
        OperationStatus::Running.as_str(),
        Some(&progress.to_string()),
        None,
        Timestamp(core.now()),
        false,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
