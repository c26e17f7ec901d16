//! Who may do what in a workspace: the roles of its members and what each role permits.

use std::fmt;

/// A member's role in one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Settings, users, tokens, and everything a lead may do.
    Admin,
    /// All figures and all conversations.
    Lead,
    /// Own figures beside the team average, own conversations.
    Agent,
    /// Figures only, read-only (e.g. an agency's client).
    Viewer,
}

/// A role name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a role; use admin, lead, agent or viewer")]
pub struct UnknownRole(pub String);

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Lead, Role::Agent, Role::Viewer];

    /// The role of a name (`admin`, `lead`, `agent`, `viewer`; any case).
    pub fn parse(name: &str) -> Result<Role, UnknownRole> {
        match name.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "lead" => Ok(Role::Lead),
            "agent" => Ok(Role::Agent),
            "viewer" => Ok(Role::Viewer),
            _ => Err(UnknownRole(name.to_string())),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lead => "lead",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    /// May change settings, members and tokens.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }

    /// May see every agent's figures and every conversation.
    pub fn sees_all_conversations(self) -> bool {
        matches!(self, Role::Admin | Role::Lead)
    }

    /// May read conversations at all (an agent only their own).
    pub fn sees_conversations(self) -> bool {
        self != Role::Viewer
    }

    /// May send records (intake) through a session.
    pub fn can_write_records(self) -> bool {
        matches!(self, Role::Admin | Role::Lead)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a workspace name cannot be used (it appears in web addresses), or `None` when it can:
/// 1–63 lowercase letters, digits and dashes, starting with a letter or digit.
pub fn workspace_name_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    (!valid).then(|| {
        format!(
            "workspace name '{name}': use 1–63 lowercase letters, digits and dashes, not starting with a dash"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_permissions_narrow() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse(" Lead "), Ok(Role::Lead));
        assert_eq!(
            Role::parse("owner").unwrap_err().to_string(),
            "'owner' is not a role; use admin, lead, agent or viewer"
        );
        let admins: Vec<_> = Role::ALL.iter().filter(|r| r.can_administer()).collect();
        assert_eq!(admins, [&Role::Admin]);
        assert!(Role::Lead.sees_all_conversations() && !Role::Agent.sees_all_conversations());
        assert!(Role::Agent.sees_conversations() && !Role::Viewer.sees_conversations());
        assert!(!Role::Viewer.can_write_records() && !Role::Agent.can_write_records());
    }

    #[test]
    fn workspace_names_fit_in_addresses() {
        for good in ["default", "shop-a", "b2b", "9"] {
            assert_eq!(workspace_name_problem(good), None, "{good}");
        }
        for bad in ["", "-a", "Shop", "shop a", "shop/a", "ä", &"x".repeat(64)] {
            assert!(workspace_name_problem(bad).is_some(), "{bad}");
        }
    }
}
