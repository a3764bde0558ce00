//! `salus smart register|list`: the SMART apps allowed to ask users for access.

use std::process::ExitCode;

use salus_app::Ctx;

use crate::SmartCommand;
use crate::config::Config;
use crate::run::{init_logging, open_app};

pub async fn run(config: Config, command: SmartCommand) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let app = open_app(&config).await?;
    let ctx = Ctx::operator();
    match command {
        SmartCommand::Register { name, redirect_uri } => {
            let client = app.identity().register_smart_client(&ctx, &name, &redirect_uri).await?;
            println!("registered {}: client_id {}", client.name, client.client_id);
            println!("it may be sent back to: {}", client.redirect_uris.join(", "));
        }
        SmartCommand::List => {
            for c in app.identity().smart_clients(&ctx).await? {
                let state = if c.active { "active" } else { "disabled" };
                println!("{}\t{}\t{state}\t{}", c.client_id, c.name, c.redirect_uris.join(" "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
