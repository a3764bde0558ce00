//! The demo hospital's accounts: one user per role, created on the first run with a
//! generated password printed once. A later run finds them and prints no passwords.

use salus_app::App;
use salus_app::Ctx;
use salus_app::identity::NewUser;
use salus_core::Role;

/// Username, display name and role of each demo account.
pub const DEMO_USERS: [(&str, &str, Role); 8] = [
    ("admin", "Asha Menon", Role::Admin),
    ("dr.rao", "Dr Priya Rao", Role::Doctor),
    ("nurse.amina", "Amina Yusuf", Role::Nurse),
    ("reception.kofi", "Kofi Mensah", Role::Receptionist),
    ("lab.mei", "Mei Lin", Role::LabTechnician),
    ("pharm.omar", "Omar Haddad", Role::Pharmacist),
    ("billing.sara", "Sara Novak", Role::Billing),
    ("patient.ravi", "Ravi Kumar", Role::Patient),
];

pub async fn ensure_demo(app: &App) -> anyhow::Result<()> {
    let names: Vec<&str> = DEMO_USERS.iter().map(|(u, _, _)| *u).collect();
    let present = app.existing_usernames(&Ctx::operator(), &names).await?;
    let mut created = Vec::new();
    for (username, name, role) in DEMO_USERS {
        if present.iter().any(|p| p == username) {
            continue;
        }
        let new = NewUser {
            username: username.into(),
            display_name: name.into(),
            password: None,
            roles: vec![role],
        };
        let (user, password) = app.create_user(&Ctx::operator(), new).await?;
        created.push((user.username, role, password.unwrap_or_default()));
    }
    if created.is_empty() {
        println!("Demo users already exist; their passwords were printed on the first run.");
        println!("Forgot one? `salus user reset-password <username>` prints a new one.");
    } else {
        println!("Demo users (these passwords are shown only now):");
        for (username, role, password) in &created {
            println!("  {:<16} {:<16} {}", role.as_str(), username, password);
        }
    }
    Ok(())
}
