//! `lightbox`: the one binary. Parses the command line, resolves settings,
//! and hands off to `serve` or an administration command.
#![forbid(unsafe_code)]

mod admin;
mod cli;
mod config;
mod demo;
mod serve;
mod webhook_sender;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// A command's failure: a one-line reason, exit code 1.
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lightbox: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(reason)) => {
            eprintln!("lightbox: {reason}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let file = config::load_file(cli.storage.config.as_deref())?;
    match cli.command {
        Command::Serve(args) => {
            let settings = config::serve(&args, &file)?;
            serve::init_logging(settings.json_logs);
            let storage = config::storage(&cli.storage, &file, "./lightbox-data")?;
            serve::serve(storage, settings, None).await
        }
        Command::Demo(args) => {
            let settings = config::serve(&args, &file)?;
            serve::init_logging(settings.json_logs);
            let storage = config::storage(&cli.storage, &file, "./lightbox-demo")?;
            serve::serve(storage, settings, Some(serve::Demo)).await
        }
        command => {
            serve::init_logging(false);
            let storage = config::storage(&cli.storage, &file, "./lightbox-data")?;
            admin::run(storage, command).await
        }
    }
}
