//! `GET /v1/cluster`: the slot map of this node's etcd cluster, for the dashboard and for
//! tools: every slot that is held or has a mark, with its holder, lease and high-water mark.
//!
//! It is the reading `snowdrift cluster status --json` prints
//! (`snowdrift_coordination::etcd::cluster_status`), made with the node's own etcd settings
//! over one etcd connection the [`crate::app::App`] keeps for it (a
//! `snowdrift_coordination::etcd::ClusterReader`: connected on the first request, made again
//! after a failed one), so a dashboard refreshing every few seconds does not open a connection,
//! nor make etcd check a password, per refresh.
//! A node on the local backend has no cluster, and answers 404 `no_cluster`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::errors::HttpError;
use super::HttpState;
use crate::error::{ErrorClass, ServiceError};

/// How long a client should wait before asking again after etcd could not be read.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /v1/cluster`.
pub async fn cluster(State(state): State<HttpState>) -> Result<Response, HttpError> {
    let Some(reader) = state.app.cluster() else {
        return Err(HttpError(ServiceError {
            class: ErrorClass::NotFound,
            code: "no_cluster",
            message: "this node uses the local backend (a state directory), so it has no \
                      cluster slot map; /v1/info shows its own slot"
                .to_string(),
            retry_after: None,
        }));
    };
    let status = reader.read().await.map_err(|err| {
        ServiceError::unavailable(
            "cluster_unavailable",
            format!("cannot read the cluster's slot map from etcd: {err}"),
            RETRY_AFTER,
        )
    })?;
    Ok(Json(status).into_response())
}
