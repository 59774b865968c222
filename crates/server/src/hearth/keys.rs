//! `/hearth/keys`: list, create (the key is in the answer, once) and revoke
//! API keys — the same `keys.json` that `hearth keys` edits, which the key
//! middleware re-reads when it changes, so a change applies at once.
//! Creating the first key turns authentication on.

use std::sync::Mutex;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hearth_api::hearth::{CreateKeyRequest, CreatedKey, KeyInfo, KeyList};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::security::{KeyFile, Scope, SecurityError};

/// Read-modify-write of the file, one at a time within this process.
static EDIT: Mutex<()> = Mutex::new(());

pub async fn list() -> Result<Json<KeyList>, ApiError> {
    let file = KeyFile::load(&KeyFile::default_path()).map_err(to_api)?;
    Ok(Json(KeyList {
        keys: file
            .keys
            .iter()
            .map(|k| KeyInfo {
                name: k.name.clone(),
                scope: k.scope.as_str().to_string(),
                created_at: k.created_at.clone(),
            })
            .collect(),
    }))
}

pub async fn create(JsonBody(req): JsonBody<CreateKeyRequest>) -> Result<Response, ApiError> {
    let scope: Scope = req
        .scope
        .as_deref()
        .unwrap_or("inference")
        .parse()
        .map_err(to_api)?;
    let path = KeyFile::default_path();
    let _guard = EDIT.lock().expect("key edit lock");
    let mut file = KeyFile::load(&path).map_err(to_api)?;
    let key = file.add(req.name.trim(), scope).map_err(to_api)?;
    file.save(&path).map_err(to_api)?;
    tracing::info!(name = %req.name.trim(), scope = scope.as_str(), "API key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            name: req.name.trim().to_string(),
            scope: scope.as_str().to_string(),
            key,
        }),
    )
        .into_response())
}

pub async fn revoke(Path(name): Path<String>) -> Result<Response, ApiError> {
    let path = KeyFile::default_path();
    let _guard = EDIT.lock().expect("key edit lock");
    let mut file = KeyFile::load(&path).map_err(to_api)?;
    file.revoke(&name).map_err(to_api)?;
    file.save(&path).map_err(to_api)?;
    tracing::info!(%name, "API key revoked");
    Ok(StatusCode::OK.into_response())
}

fn to_api(e: SecurityError) -> ApiError {
    let status = match e {
        SecurityError::DuplicateKey(_) => StatusCode::CONFLICT,
        SecurityError::UnknownKey(_) => StatusCode::NOT_FOUND,
        SecurityError::InvalidKeyName(_) | SecurityError::InvalidScope(_) => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.to_string())
}
