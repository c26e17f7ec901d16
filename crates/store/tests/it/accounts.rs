//! The accounts story, written against the `Accounts` trait: users, first-user setup,
//! memberships per workspace, tokens scoped to their workspace, sessions.

use servicemeter_core::access::Role;
use servicemeter_store::{
    Accounts, Membership, SavedView, Storage, Store, StoreError, StoredSession,
};

async fn accounts_story(store: &(impl Store + Accounts)) {
    let shop_a = store.workspace("shop-a").await.unwrap();
    let shop_b = store.workspace("shop-b").await.unwrap();

    // Setup works once: the second first user is refused, and nothing of it is stored.
    assert_eq!(store.user_count().await.unwrap(), 0);
    let (admin, setup_workspace) = store
        .create_first_user("admin@example.nl", "hash-a", "shop-a", 1)
        .await
        .unwrap()
        .expect("first user");
    assert_eq!(setup_workspace, shop_a.id);
    assert_eq!(
        store
            .create_first_user("late@example.nl", "hash-x", "late-shop", 2)
            .await
            .unwrap(),
        None
    );
    // The refused setup left no workspace behind.
    assert!(store.find_workspace("late-shop").await.unwrap().is_none());
    assert_eq!(store.user_count().await.unwrap(), 1);
    assert!(
        store
            .user_by_email("late@example.nl")
            .await
            .unwrap()
            .is_none()
    );
    let admin_membership = store.membership(shop_a.id, admin).await.unwrap().unwrap();
    assert_eq!(admin_membership.role, Role::Admin);
    assert_eq!(store.membership(shop_b.id, admin).await.unwrap(), None);
    // The first user is an installation administrator; other users are not.
    assert!(store.user(admin).await.unwrap().unwrap().installation_admin);

    // An installation administrator's new workspace: stored with its administrator; a taken
    // name is a conflict that changes nothing.
    let shop_c = store
        .create_workspace_with_admin("shop-c", admin, 5)
        .await
        .unwrap();
    assert_eq!(
        store.find_workspace("shop-c").await.unwrap().unwrap().id,
        shop_c
    );
    assert_eq!(
        store.membership(shop_c, admin).await.unwrap().unwrap().role,
        Role::Admin
    );
    match store.create_workspace_with_admin("shop-b", admin, 6).await {
        Err(StoreError::Conflict(what)) => assert_eq!(what, "workspace shop-b"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.membership(shop_b.id, admin).await.unwrap(), None);

    // E-mail addresses are unique.
    let lead = store
        .create_user("lead@example.nl", "hash-l", 3)
        .await
        .unwrap();
    match store.create_user("lead@example.nl", "other", 4).await {
        Err(StoreError::Conflict(what)) => assert_eq!(what, "user lead@example.nl"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(!store.user(lead).await.unwrap().unwrap().installation_admin);
    store.set_installation_admin(lead, true).await.unwrap();
    assert!(store.user(lead).await.unwrap().unwrap().installation_admin);
    store.set_installation_admin(lead, false).await.unwrap();
    assert!(!store.user(lead).await.unwrap().unwrap().installation_admin);
    let agent = Membership {
        role: Role::Agent,
        agent_name: Some("Anna".into()),
    };
    store.set_membership(shop_b.id, lead, &agent).await.unwrap();
    let as_lead = Membership {
        role: Role::Lead,
        agent_name: None,
    };
    store
        .set_membership(shop_a.id, lead, &as_lead)
        .await
        .unwrap();
    let of_lead = store.memberships_of(lead).await.unwrap();
    let names: Vec<_> = of_lead
        .iter()
        .map(|(w, m)| (w.name.as_str(), m.role))
        .collect();
    assert_eq!(names, [("shop-a", Role::Lead), ("shop-b", Role::Agent)]);
    assert_eq!(of_lead[1].1.agent_name.as_deref(), Some("Anna"));
    let members: Vec<_> = store
        .members(shop_a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, m)| (u.email, m.role))
        .collect();
    assert_eq!(
        members,
        [
            ("admin@example.nl".to_string(), Role::Admin),
            ("lead@example.nl".to_string(), Role::Lead)
        ]
    );
    assert!(store.remove_membership(shop_b.id, lead).await.unwrap());
    assert!(!store.remove_membership(shop_b.id, lead).await.unwrap());

    // A token is found only in its own workspace, and not after it is revoked.
    let token = store
        .create_token(shop_a.id, "helpdesk sync", "sha-1", 10)
        .await
        .unwrap();
    let other = store
        .create_token(shop_b.id, "other", "sha-2", 11)
        .await
        .unwrap();
    assert_eq!((token, other), (1, 1), "token ids count per workspace");
    let found = store.token(shop_a.id, "sha-1").await.unwrap().unwrap();
    assert_eq!(found.name, "helpdesk sync");
    assert_eq!(store.token(shop_b.id, "sha-1").await.unwrap(), None);
    assert!(!store.revoke_token(shop_b.id, 7, 12).await.unwrap());
    assert!(store.revoke_token(shop_a.id, token, 12).await.unwrap());
    assert_eq!(store.token(shop_a.id, "sha-1").await.unwrap(), None);
    assert_eq!(
        store.tokens(shop_a.id).await.unwrap()[0].revoked_at,
        Some(12)
    );
    assert!(store.token(shop_b.id, "sha-2").await.unwrap().is_some());

    // Webhook secrets belong to one workspace.
    assert_eq!(store.webhook_secret(shop_a.id).await.unwrap(), None);
    store.set_webhook_secret(shop_a.id, "s3cret").await.unwrap();
    assert_eq!(
        store.webhook_secret(shop_a.id).await.unwrap().as_deref(),
        Some("s3cret")
    );
    assert_eq!(store.webhook_secret(shop_b.id).await.unwrap(), None);

    // Sessions: create only once, replace, expire.
    let session = StoredSession {
        data: b"one".to_vec(),
        expires_at: 100,
    };
    assert!(store.create_session("s1", &session).await.unwrap());
    assert!(!store.create_session("s1", &session).await.unwrap());
    let newer = StoredSession {
        data: b"two".to_vec(),
        expires_at: 200,
    };
    store.save_session("s1", &newer).await.unwrap();
    assert_eq!(store.load_session("s1").await.unwrap(), Some(newer));
    assert_eq!(store.delete_expired_sessions(199).await.unwrap(), 0);
    assert_eq!(store.delete_expired_sessions(200).await.unwrap(), 1);
    assert_eq!(store.load_session("s1").await.unwrap(), None);

    // Saved views: per workspace, by name; the same name replaces; deletion is audited.
    let view = |name: &str, query: &str, at: i64| SavedView {
        name: name.into(),
        query: query.into(),
        created_by: "lead@example.nl".into(),
        created_at: at,
    };
    store
        .save_view(
            shop_a.id,
            &view("Chat deze maand", "preset=month&channel=chat", 10),
        )
        .await
        .unwrap();
    store
        .save_view(
            shop_a.id,
            &view("Alle e-mail", "preset=7d&channel=email", 11),
        )
        .await
        .unwrap();
    store
        .save_view(
            shop_a.id,
            &view(
                "Chat deze maand",
                "preset=month&channel=chat&compare=year",
                12,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        store.saved_views(shop_a.id).await.unwrap(),
        vec![
            view("Alle e-mail", "preset=7d&channel=email", 11),
            view(
                "Chat deze maand",
                "preset=month&channel=chat&compare=year",
                12
            ),
        ]
    );
    assert!(store.saved_views(shop_b.id).await.unwrap().is_empty());
    assert!(
        store
            .delete_view(shop_a.id, "Alle e-mail", "admin@example.nl", 13)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_view(shop_a.id, "Alle e-mail", "admin@example.nl", 14)
            .await
            .unwrap()
    );
    assert_eq!(store.saved_views(shop_a.id).await.unwrap().len(), 1);
    let log = store.audit_log(shop_a.id, 10).await.unwrap();
    assert_eq!(log[0].action, "view-delete");
    assert_eq!(log[0].detail, "Alle e-mail");
    assert_eq!(log[0].actor, "admin@example.nl");
    assert_eq!(log[1].action, "view-save");
}

#[tokio::test]
async fn sqlite_accounts_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = Storage::open_embedded(dir.path()).await.unwrap();
    accounts_story(&store).await;
}

#[tokio::test]
async fn postgres_accounts_story() {
    accounts_story(&crate::postgres().await).await;
}
