//! Start-up time and idle memory of an emulator process.
//!
//! Start-up: from spawning the command to the first successful ListStreams, polled every few
//! milliseconds; the median of several fresh starts. Memory: the resident set (VmRSS) of the
//! first start once it has created one stream and then sat idle for a second.

use std::net::{Ipv4Addr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::kinesis;
use crate::stats::{median, millis};

/// Options of the `startup` workload.
#[derive(Debug, clap::Args)]
pub(crate) struct StartupArgs {
    /// Fresh starts to time; the median is reported.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Milliseconds between ListStreams polls.
    #[arg(long, default_value_t = 2)]
    poll_ms: u64,
    /// Give up on a start after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Milliseconds to stay idle after CreateStream before reading VmRSS.
    #[arg(long, default_value_t = 1000)]
    idle_ms: u64,
    /// The emulator command; every `{port}` in it is replaced by a free port.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Kills the child when dropped, so no emulator outlives an error.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Times `runs` fresh starts of the command and measures the first one's idle memory.
pub(crate) async fn startup(args: StartupArgs) -> anyhow::Result<Value> {
    let mut ready = Vec::with_capacity(args.runs);
    let mut rss_ready_kib = None;
    let mut rss_idle_kib = None;
    for run in 0..args.runs.max(1) {
        let port = free_port()?;
        let argv: Vec<String> = args
            .command
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        let client = kinesis::client(&format!("http://127.0.0.1:{port}"));
        let start = Instant::now();
        let mut child = Running(
            Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("spawning {argv:?}"))?,
        );
        loop {
            if client.list_streams().send().await.is_ok() {
                break;
            }
            if let Some(status) = child.0.try_wait()? {
                bail!("{argv:?} exited with {status} before answering ListStreams");
            }
            if start.elapsed() > Duration::from_secs(args.timeout_secs) {
                bail!(
                    "{argv:?} did not answer ListStreams within {}s",
                    args.timeout_secs
                );
            }
            tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
        }
        ready.push(start.elapsed());
        if run == 0 {
            let pid = child.0.id();
            rss_ready_kib = Some(vm_rss_kib(pid)?);
            kinesis::create_stream(&client, "bench-idle", 1).await?;
            tokio::time::sleep(Duration::from_millis(args.idle_ms)).await;
            rss_idle_kib = Some(vm_rss_kib(pid)?);
        }
        drop(child);
    }
    Ok(json!({
        "workload": "startup",
        "command": args.command,
        "runs": ready.len(),
        "ready_ms": ready.iter().map(|&d| millis(d)).collect::<Vec<_>>(),
        "ready_median_ms": millis(median(&ready)),
        "rss_ready_kib": rss_ready_kib,
        "rss_idle_kib": rss_idle_kib,
    }))
}

/// CPU time spent by the load generator and by the emulator over a measured window, to show
/// how the machine's cores were shared between them.
pub(crate) struct CpuWindow {
    start: Instant,
    client: Option<u64>,
    server_pid: Option<u32>,
    server: Option<u64>,
}

impl CpuWindow {
    /// Opens the window; `server_pid` is the emulator's process, if known.
    pub(crate) fn start(server_pid: Option<u32>) -> Self {
        Self {
            start: Instant::now(),
            client: cpu_ms("self"),
            server_pid,
            server: server_pid.and_then(|pid| cpu_ms(&pid.to_string())),
        }
    }

    /// Closes the window and adds `cpu_window_ms`, `client_cpu_ms` and `server_cpu_ms` to `out`.
    pub(crate) fn finish(&self, out: &mut Value) {
        let window = millis(self.start.elapsed());
        let client = self
            .client
            .zip(cpu_ms("self"))
            .map(|(a, b)| b.saturating_sub(a));
        let server = self
            .server
            .zip(self.server_pid.and_then(|pid| cpu_ms(&pid.to_string())))
            .map(|(a, b)| b.saturating_sub(a));
        if let Some(object) = out.as_object_mut() {
            object.insert("cpu_window_ms".to_owned(), json!(window));
            object.insert("client_cpu_ms".to_owned(), json!(client));
            object.insert("server_cpu_ms".to_owned(), json!(server));
        }
    }
}

/// User plus system CPU time of `/proc/{pid}` so far, in milliseconds (Linux only).
fn cpu_ms(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_ticks(&stat).map(|ticks| ticks * 10)
}

/// utime + stime from a /proc/PID/stat line, in clock ticks (USER_HZ, 100 on Linux).
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name is in parentheses and may hold spaces; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// VmRSS of `pid` in KiB, from /proc/PID/status.
fn vm_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    parse_vm_rss(&status).context("no VmRSS line in /proc/PID/status")
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The emulator a workload measures: where it answers, and which process to take the CPU time
/// of.
#[derive(Debug, clap::Args)]
pub(crate) struct Endpoint {
    /// Endpoint URL, e.g. http://127.0.0.1:4566.
    #[arg(long)]
    pub(crate) endpoint: String,
    /// Process id of the emulator, to report its CPU time over the measurement.
    #[arg(long)]
    pub(crate) server_pid: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::{cpu_ticks, parse_vm_rss};

    #[test]
    fn reads_cpu_ticks() {
        let stat = "42 (my prog) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 3 0 1 2 3";
        assert_eq!(cpu_ticks(stat), Some(280));
    }

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\triffle\nVmPeak:\t  9000 kB\nVmRSS:\t    6144 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(6144));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }
}
