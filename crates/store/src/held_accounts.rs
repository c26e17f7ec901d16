//! Sign-in look-ups (a session, its user, the user's place in a workspace) held in memory on
//! PostgreSQL while the store's listener hears every change announced by any process, so that
//! a page view needs no database round trip to know who asks. Every write of these tables
//! forgets what this process holds and announces it; a lost listener forgets everything and
//! holds nothing until it listens again; an entry is used for at most [`HOLD_FOR`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::accounts::{Membership, StoredSession, User, UserId};
use crate::{Workspace, WorkspaceId};

/// How long a look-up is used before it is asked again, announcements or not.
pub(crate) const HOLD_FOR: Duration = Duration::from_secs(30);

/// Entries held per kind; a full map starts again empty.
const CAPACITY: usize = 10_000;

/// Answers held per key (a `None` answer too: "no such session").
#[derive(Debug)]
struct Held<K, V> {
    entries: HashMap<K, (Instant, V)>,
}

impl<K, V> Default for Held<K, V> {
    fn default() -> Self {
        Held {
            entries: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq, V: Clone> Held<K, V> {
    fn get(&self, key: &K, now: Instant) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(at, _)| now.saturating_duration_since(*at) < HOLD_FOR)
            .map(|(_, v)| v.clone())
    }

    fn insert(&mut self, key: K, value: V, now: Instant) {
        if self.entries.len() >= CAPACITY {
            self.entries.clear();
        }
        self.entries.insert(key, (now, value));
    }
}

#[derive(Debug, Default)]
struct Maps {
    users: Held<UserId, Option<User>>,
    memberships: Held<(String, UserId), Option<(Workspace, Membership)>>,
    sessions: Held<String, Option<StoredSession>>,
}

/// What one process holds; see the module's text.
#[derive(Debug, Default)]
pub(crate) struct HeldAccounts {
    maps: Mutex<Maps>,
    /// Counts forgets: an answer read from the database is held only when nothing was
    /// forgotten while it was being read.
    epoch: AtomicU64,
}

/// A look-up [`HeldAccounts`] may answer.
#[derive(Clone, Copy)]
pub(crate) enum Lookup<'a> {
    User(UserId),
    Membership(&'a str, UserId),
    Session(&'a str),
}

/// An answer to a [`Lookup`].
pub(crate) enum Answer {
    User(Option<User>),
    Membership(Option<(Workspace, Membership)>),
    Session(Option<StoredSession>),
}

impl HeldAccounts {
    /// The held answer, if any.
    pub(crate) fn get(&self, lookup: &Lookup<'_>) -> Option<Answer> {
        let maps = self.maps.lock().expect("held accounts lock");
        let now = Instant::now();
        match *lookup {
            Lookup::User(id) => maps.users.get(&id, now).map(Answer::User),
            Lookup::Membership(name, user) => maps
                .memberships
                .get(&(name.to_string(), user), now)
                .map(Answer::Membership),
            Lookup::Session(id) => maps.sessions.get(&id.to_string(), now).map(Answer::Session),
        }
    }

    /// The epoch to read under; pass it to [`HeldAccounts::hold`].
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Holds an answer read from the database under `epoch`, unless something was forgotten
    /// since (then it may be old already).
    pub(crate) fn hold(&self, epoch: u64, lookup: &Lookup<'_>, answer: Answer) {
        let mut maps = self.maps.lock().expect("held accounts lock");
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        let now = Instant::now();
        match (*lookup, answer) {
            (Lookup::User(id), Answer::User(user)) => maps.users.insert(id, user, now),
            (Lookup::Membership(name, user), Answer::Membership(found)) => {
                maps.memberships
                    .insert((name.to_string(), user), found, now)
            }
            (Lookup::Session(id), Answer::Session(session)) => {
                maps.sessions.insert(id.to_string(), session, now)
            }
            _ => {}
        }
    }

    /// Forgets everything held.
    pub(crate) fn forget_all(&self) {
        let mut maps = self.maps.lock().expect("held accounts lock");
        self.epoch.fetch_add(1, Ordering::SeqCst);
        *maps = Maps::default();
    }

    /// Forgets what a change of one workspace (its configuration, say) may have made old: its
    /// memberships, and every "not a member" answer.
    pub(crate) fn forget_workspace(&self, workspace: WorkspaceId) {
        let mut maps = self.maps.lock().expect("held accounts lock");
        self.epoch.fetch_add(1, Ordering::SeqCst);
        maps.memberships
            .entries
            .retain(|_, (_, found)| matches!(found, Some((w, _)) if w.id != workspace));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use servicemeter_core::access::Role;

    fn workspace(id: i64) -> Workspace {
        Workspace {
            id: WorkspaceId(id),
            name: format!("w{id}"),
            config_toml: None,
        }
    }

    fn member() -> Membership {
        Membership {
            role: Role::Lead,
            agent_name: None,
        }
    }

    fn membership(held: &HeldAccounts, name: &str) -> Option<Option<i64>> {
        match held.get(&Lookup::Membership(name, UserId(1)))? {
            Answer::Membership(found) => Some(found.map(|(w, _)| w.id.0)),
            _ => panic!("another kind of answer"),
        }
    }

    #[test]
    fn a_forget_while_reading_keeps_the_read_answer_out() {
        let held = HeldAccounts::default();
        let epoch = held.epoch();
        held.forget_all();
        held.hold(
            epoch,
            &Lookup::Membership("w1", UserId(1)),
            Answer::Membership(Some((workspace(1), member()))),
        );
        assert_eq!(membership(&held, "w1"), None, "not held");
        let epoch = held.epoch();
        held.hold(
            epoch,
            &Lookup::Membership("w1", UserId(1)),
            Answer::Membership(Some((workspace(1), member()))),
        );
        assert_eq!(membership(&held, "w1"), Some(Some(1)));
    }

    #[test]
    fn a_workspace_change_forgets_its_memberships_and_every_refusal() {
        let held = HeldAccounts::default();
        for (name, found) in [
            ("w1", Some((workspace(1), member()))),
            ("w2", Some((workspace(2), member()))),
            ("w3", None),
        ] {
            let epoch = held.epoch();
            held.hold(
                epoch,
                &Lookup::Membership(name, UserId(1)),
                Answer::Membership(found),
            );
        }
        let epoch = held.epoch();
        held.hold(epoch, &Lookup::Session("s"), Answer::Session(None));
        held.forget_workspace(WorkspaceId(1));
        assert_eq!(membership(&held, "w1"), None);
        assert_eq!(membership(&held, "w2"), Some(Some(2)));
        assert_eq!(membership(&held, "w3"), None, "a refusal may be old now");
        assert!(matches!(
            held.get(&Lookup::Session("s")),
            Some(Answer::Session(None))
        ));
        held.forget_all();
        assert!(held.get(&Lookup::Session("s")).is_none());
        assert_eq!(membership(&held, "w2"), None);
    }
}
