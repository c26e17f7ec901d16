//! Live updates: a server-sent event stream per workspace that says `update` whenever the
//! workspace's data changes (intake, webhooks, imports by the command line, new settings), so
//! that open dashboards refresh their figures without a reload.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use servicemeter_store::{Accounts, Store};

use crate::auth::{Caller, SignedIn, workspace_access};
use crate::error::WebError;
use crate::state::AppState;

/// `GET /w/{workspace}/live`: `update` events when the data version moves.
pub async fn events<S: Store + Accounts + 'static>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path(name): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, WebError> {
    let access = workspace_access(&*state.store, &Caller::User(signed_in.user), &name).await?;
    let workspace = access.workspace.id;
    let first = state.store.data_version(workspace).await?;
    let interval = state.live_interval;
    let stream = stream::unfold((state, first), move |(state, mut seen)| async move {
        loop {
            tokio::time::sleep(interval).await;
            // A store error ends nothing: the next round asks again.
            if let Ok(version) = state.store.data_version(workspace).await
                && version != seen
            {
                seen = version;
                let event = Event::default().event("update").data(version.to_string());
                return Some((Ok(event), (state, seen)));
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
