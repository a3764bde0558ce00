//! `salus`: the one binary. It serves the hospital (`serve`, `demo`), manages the schema
//! (`migrate`) and accounts (`user`), and checks its configuration (`config check`).

mod audit;
mod bench;
mod config;
mod demo;
mod demo_billing;
mod demo_imaging;
mod demo_inpatient;
mod demo_lab;
mod demo_pharmacy;
mod export;
mod import;
mod run;
mod smart;
mod stock;
mod users;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use salus_core::Role;

use crate::config::{Config, Overrides};

/// mimalloc rather than glibc's malloc: small short-lived allocations (rows, strings, JSON)
/// are most of a request's allocations, and glibc spent a fifth of a search's CPU on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "salus", version, about = "Salus hospital information system")]
struct Cli {
    /// Configuration file (default: ./salus.toml if present).
    #[arg(long, global = true, env = "SALUS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder for the embedded SQLite database (default: ./salus-data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL, `postgres://…` or `sqlite:…`; overrides --data-dir.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrates the database first).
    Serve(Listen),
    /// Run the demo hospital: SQLite in the data folder, one user per role (passwords
    /// printed on the first run only), served on 127.0.0.1.
    Demo(Listen),
    /// Apply pending database migrations and exit.
    Migrate {
        /// Only report whether migrations are pending; exit 1 if they are.
        #[arg(long)]
        check: bool,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Verify or export the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the stock ledger.
    Stock {
        #[command(subcommand)]
        command: StockCommand,
    },
    /// Fill the database with a made-up hospital for benchmarks (deterministic by seed):
    /// staff with one known password, schedules, appointments, patients and their visits.
    Generate(GenerateArgs),
    /// Take in another system's records.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Send the hospital's records out.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Register the SMART apps that may ask users for access to the FHIR door.
    Smart {
        #[command(subcommand)]
        command: SmartCommand,
    },
    /// Load-test Salus with a clinic day's mix over HTTP and report per operation
    /// (start it on the configured database, or target one with --url).
    Bench(bench::BenchArgs),
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Args, Clone)]
pub struct GenerateArgs {
    /// A reference size: 1k, 100k or 1m patients (else give --patients).
    #[arg(long, required_unless_present = "patients", conflicts_with = "patients")]
    size: Option<String>,
    /// How many patients.
    #[arg(long)]
    patients: Option<u64>,
    /// The same seed gives the same hospital.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Doctors (each with sessions every day, 08:00 to 20:00).
    #[arg(long, default_value_t = 200)]
    doctors: usize,
    /// Days of appointments ahead.
    #[arg(long, default_value_t = 90)]
    days: i64,
    /// Visits per patient on average.
    #[arg(long, default_value_t = 3)]
    visits: u32,
    /// Encounters of the first patient (the chart benchmark's busy patient).
    #[arg(long, default_value_t = 10_000)]
    busy_encounters: u64,
    /// Laboratory orders per patient: 0 to this many (about seven results each).
    #[arg(long, default_value_t = 3)]
    lab_orders: u32,
    /// Stock items (the catalog's topped up with generated consumables; default by size).
    #[arg(long)]
    stock_items: Option<u64>,
    /// Batches of each item, each held in all five generated stores.
    #[arg(long)]
    stock_batches: Option<u32>,
    /// Posted bills over the last year (default by size: 10,000 at 1k, a million at 1m).
    #[arg(long)]
    invoices: Option<u64>,
    /// The password of every generated account (bench.desk, bench.doctor001, …).
    #[arg(long, default_value = "salus-bench-password")]
    password: String,
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// FHIR R4: a bundle (`.json`, such as a Synthea patient), NDJSON (`.ndjson`), or a
    /// folder of them. Safe to run again: what is already in is not made twice.
    Fhir {
        /// A file or a folder.
        path: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum SmartCommand {
    /// Register an app (public client, PKCE): prints its client id.
    Register {
        /// The name users see on the consent page.
        #[arg(long)]
        name: String,
        /// An address it may be sent back to (https, or http on 127.0.0.1); repeat for more.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uri: Vec<String>,
    },
    /// The registered apps.
    List,
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// FHIR R4 Bulk Data NDJSON files (what `GET /fhir/$export` makes), restricted records
    /// left out; reports resources a second and peak memory.
    Fhir {
        /// The folder to write `<Type>.<n>.ndjson` files into.
        #[arg(long)]
        out: PathBuf,
        /// Only these resource types, comma-separated.
        #[arg(long)]
        types: Option<String>,
        /// Only what changed after this instant.
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Args, Clone, Copy)]
struct Listen {
    /// Port to listen on (default 8080).
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on (default 127.0.0.1).
    #[arg(long)]
    bind: Option<IpAddr>,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a generated password unless --password-stdin is given.
    Create {
        username: String,
        /// The name shown on pages.
        #[arg(long = "name")]
        display_name: String,
        /// A role (repeat for several): admin, doctor, nurse, receptionist,
        /// lab_technician, pharmacist, billing, patient.
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Replace a user's roles (ends their sessions).
    SetRoles {
        username: String,
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
    },
    /// Disable a user (ends their sessions).
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
    /// Give a user a new generated password (ends their sessions) and print it.
    ResetPassword { username: String },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Seal what is pending, then walk the hash chain; exit 1 naming the first broken,
    /// missing or changed link.
    Verify,
    /// Write the events of a period as JSON lines to standard output.
    Export {
        /// First day or instant included (2026-11-01 or RFC 3339).
        #[arg(long)]
        from: String,
        /// First day or instant excluded.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
pub enum StockCommand {
    /// Check that every balance of every store is the sum of its ledger; exit 1 naming
    /// each store and batch that is not.
    Verify,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Load and validate the configuration, print the effective settings, exit non-zero on
    /// a mistake.
    Check,
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve(l) | Command::Demo(l) => *l,
        _ => Listen { port: None, bind: None },
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        bind: listen.bind,
        port: listen.port,
    };
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // What `salus bench` passes on to the server it starts.
    let mut global = Vec::new();
    if let Some(c) = &cli.config {
        global.extend(["--config".to_owned(), c.display().to_string()]);
    }
    if let Some(d) = &cli.data_dir {
        global.extend(["--data-dir".to_owned(), d.display().to_string()]);
    }
    if let Some(u) = &cli.database_url {
        global.extend(["--database-url".to_owned(), u.clone()]);
    }
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(_) => run::serve(config, started, false).await,
            Command::Demo(_) => run::serve(config, started, true).await,
            Command::Migrate { check } => run::migrate(config, check).await,
            Command::User { command } => users::run(config, command).await,
            Command::Audit { command } => audit::run(config, command).await,
            Command::Stock { command } => stock::run(config, command).await,
            Command::Generate(args) => demo::generate(config, args).await,
            Command::Import { command: ImportCommand::Fhir { path } } => import::fhir(config, &path).await,
            Command::Export { command: ExportCommand::Fhir { out, types, since } } => {
                export::fhir(config, &out, types.as_deref(), since.as_deref()).await
            }
            Command::Smart { command } => smart::run(config, command).await,
            Command::Bench(args) => bench::run(args, global).await,
            Command::Config { command: ConfigCommand::Check } => run::config_check(&config),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
