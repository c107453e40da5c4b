//! `GET /proposals/{id}/updates`: server-sent events telling an open
//! proposal page that the proposal changed, so its script can show the new
//! state. Fed by the server's one feed of the log: every event after the
//! page's last one is looked at once, and a `changed` event is sent for each
//! of this proposal's. Each event carries its log position as its id, and a
//! `tick` every few seconds carries the position reached, so a browser that
//! reconnects (sending `Last-Event-ID`) misses nothing and reads little
//! again. The stream ends when the session's sign-in is revoked, when a read
//! of the log fails, or when the server begins to shut down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{BoxStream, Stream, StreamExt};
use serde::Deserialize;

use super::parse_id;
use crate::app::App;
use crate::pages::error::PageError;
use crate::pages::session::{Session, SignedIn};
use crate::pages::PagesState;
use crate::store::{RecordedEvent, StoreError};

/// How often the position reached is sent when nothing of this proposal
/// happens.
const TICK: Duration = Duration::from_secs(15);

/// What `/proposals/{id}/updates` may be asked.
#[derive(Debug, Deserialize)]
pub struct UpdatesQuery {
    /// The log position of the last event the page shows.
    after: Option<u64>,
}

/// A live stream of one proposal's changes.
struct Following {
    events: BoxStream<'static, Result<Arc<RecordedEvent>, StoreError>>,
    ticks: tokio::time::Interval,
    closing: tokio::sync::watch::Receiver<bool>,
    app: Arc<App>,
    session: Session,
    stream_id: String,
    cursor: u64,
}

/// `Some` while the session is unexpired and its sign-in stands.
fn still_signed_in(session: &Session, app: &App) -> Option<()> {
    if session.expires <= app.clock.now() {
        return None;
    }
    session.actor(&app.read.directory()).map(|_| ())
}

impl Following {
    /// The next event to send, or `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        loop {
            tokio::select! {
                event = self.events.next() => {
                    let event = match event {
                        Some(Ok(event)) => event,
                        Some(Err(error)) => {
                            tracing::warn!(%error, "a proposal page's updates could not read the log");
                            return None;
                        }
                        None => return None,
                    };
                    self.cursor = event.position;
                    if event.stream_id != self.stream_id {
                        continue;
                    }
                    still_signed_in(&self.session, &self.app)?;
                    return Some(Event::default().event("changed").id(self.cursor.to_string()).data(self.cursor.to_string()));
                }
                _ = self.ticks.tick() => {
                    still_signed_in(&self.session, &self.app)?;
                    return Some(Event::default().event("tick").id(self.cursor.to_string()).data(""));
                }
                _ = self.closing.wait_for(|closing| *closing) => return None,
            }
        }
    }
}

/// `GET /proposals/{id}/updates?after=P`.
pub async fn stream(
    State(state): State<PagesState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<UpdatesQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let id = parse_id(&id)?;
    let reconnected = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let after = reconnected
        .max(query.after)
        .unwrap_or_else(|| state.app.feed.position());
    let mut ticks = tokio::time::interval(TICK);
    ticks.reset();
    let following = Following {
        events: state.app.feed.follow(after).boxed(),
        ticks,
        closing: state.closing.subscribe(),
        app: state.app.clone(),
        session: signed_in.session,
        stream_id: id.stream(),
        cursor: after,
    };
    let events = futures::stream::unfold(following, |mut following| async move {
        let event = following.next().await?;
        Some((Ok(event), following))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
