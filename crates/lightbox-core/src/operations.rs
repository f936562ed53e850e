//! Operations: what every write answers with, and what clients poll.

use lightbox_store::operations::{self, OperationRow};
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
    /// What the write was, e.g. `set.create`.
    #[serde(rename = "type")]
    #[schema(example = "set.create")]
    pub kind: String,
    pub image_public_uuids: Vec<String>,
    pub set_public_uuid: Option<String>,
    /// What the work produced; for long work, progress (`done`, `total`).
    #[schema(value_type = Object)]
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
        Ok(Self {
            uuid: row.id.clone(),
            status: OperationStatus::parse(&row.status).ok_or_else(corrupt)?,
            kind: row.kind.clone(),
            image_public_uuids: serde_json::from_str(&row.image_public_uuids)
                .map_err(|_| corrupt())?,
            set_public_uuid: row.set_public_uuid.clone(),
            result: serde_json::from_str(&row.result).map_err(|_| corrupt())?,
            error: row
                .error
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt())?,
            created_at: format_rfc3339(row.created_at),
            updated_at: format_rfc3339(row.updated_at),
            finished_at: row.finished_at.map(format_rfc3339),
        })
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
        core.now(),
        false,
    )
    .await?;
    tx.commit()
        .await
        .map_err(lightbox_store::StoreError::from)?;
    Ok(())
}
