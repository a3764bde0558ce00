//! `salus user …`: account administration from the server's console.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use salus_app::Ctx;
use salus_app::identity::NewUser;
use salus_core::page::PageRequest;

use crate::UserCommand;
use crate::config::Config;
use crate::run::{init_logging, open_app};

pub async fn run(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let app = open_app(&config).await?;
    let op = Ctx::operator();
    match command {
        UserCommand::Create { username, display_name, roles, password_stdin } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let (user, generated) =
                app.identity().create_user(&op, NewUser { username, display_name, password, roles }).await?;
            println!("created {} ({})", user.username, roles_text(&user.roles));
            if let Some(p) = generated {
                println!("password: {p}");
            }
        }
        UserCommand::List => {
            let mut after = None;
            println!("{:<24} {:<8} {:<32} NAME", "USERNAME", "STATUS", "ROLES");
            loop {
                let page = app.identity().list_users(&op, PageRequest::new(after, Some(200))).await?;
                for u in &page.items {
                    let status = if u.active { "active" } else { "disabled" };
                    println!(
                        "{:<24} {:<8} {:<32} {}",
                        u.username,
                        status,
                        roles_text(&u.roles),
                        u.display_name
                    );
                }
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
        UserCommand::SetRoles { username, roles } => {
            let user = app.identity().find_user_by_username(&op, &username).await?;
            let user = app.identity().set_roles(&op, user.id, &roles).await?;
            println!("{} now has: {}", user.username, roles_text(&user.roles));
        }
        UserCommand::Disable { username } => {
            let user = app.identity().find_user_by_username(&op, &username).await?;
            app.identity().set_user_active(&op, user.id, false).await?;
            println!("{} is disabled and signed out everywhere", user.username);
        }
        UserCommand::Enable { username } => {
            let user = app.identity().find_user_by_username(&op, &username).await?;
            app.identity().set_user_active(&op, user.id, true).await?;
            println!("{} is enabled", user.username);
        }
        UserCommand::ResetPassword { username } => {
            let user = app.identity().find_user_by_username(&op, &username).await?;
            let password = app.identity().reset_password(&op, user.id).await?;
            println!("new password for {}: {password}", user.username);
            println!("(they must choose their own at their next sign-in)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn roles_text(roles: &[salus_core::Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}
