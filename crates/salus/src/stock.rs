//! `salus stock verify`: the check that the stock ledger sums to every balance, from the
//! console (the ledger page shows the same).

use std::process::ExitCode;

use crate::StockCommand;
use crate::config::Config;
use crate::run::{init_logging, open_app};

pub async fn run(config: Config, command: StockCommand) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let app = open_app(&config).await?;
    match command {
        StockCommand::Verify => {
            let started = std::time::Instant::now();
            let check = app.pharmacy().verify_ledger(&salus_app::Ctx::operator()).await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "checked {} balance(s) against {} movement(s) in {secs:.2} s",
                check.balances, check.movements
            );
            if !check.mismatches.is_empty() {
                for m in &check.mismatches {
                    println!(
                        "MISMATCH store {} batch {}: the balance says {}, the ledger sums to {}",
                        m.store_id, m.batch_id, m.on_hand, m.ledger
                    );
                }
                return Ok(ExitCode::FAILURE);
            }
            println!("the ledger sums to every balance");
        }
    }
    Ok(ExitCode::SUCCESS)
}
