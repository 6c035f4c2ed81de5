//! What `riffle local` (and `riffle emulator`) tell a new user on stderr: each template warning
//! once, and a port already in use named with who may hold it and how to choose another.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::local::{KillOnDrop, wait_for};
use crate::support::riffle_binary;

/// A template with a stream and no functions (nothing to build), and one warning: the IAM role.
const WARNING_TEMPLATE: &str = "AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
";

const WARNING: &str = "Type: AWS::IAM::Role is not created locally";

/// Writes `text` to a template file of this test's own; removed on drop.
struct TemplateFile(PathBuf);

impl TemplateFile {
    fn new(name: &str, text: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("riffle-e2e-{}-{name}.yaml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TemplateFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts `riffle ARGS` without input, its stdout as given and its stderr piped; the guard kills
/// it if the test fails first.
fn spawn(args: &[&str], stdout: Stdio) -> (std::process::Child, KillOnDrop) {
    let mut command = Command::new(riffle_binary());
    command.args(args).stdin(Stdio::null()).stdout(stdout);
    let child = command.stderr(Stdio::piped()).spawn().unwrap();
    let guard = KillOnDrop(child.id());
    (child, guard)
}

/// Runs `riffle args…` to its exit (bounded: it is killed after `limit`); its stderr.
fn stderr_of(args: &[&str], limit: Duration) -> (std::process::ExitStatus, String) {
    let (mut child, guard) = spawn(args, Stdio::null());
    let mut stderr = child.stderr.take().unwrap();
    let (done, exited) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = done.send((child.wait().unwrap(), text));
    });
    let result = exited
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("riffle {args:?} still running after {limit:?}"));
    drop(guard);
    result
}

#[test]
fn local_prints_each_template_warning_once() {
    let template = TemplateFile::new("warning-once", WARNING_TEMPLATE);
    let args = ["local", "--template", template.path(), "--port", "0"];
    let args = [&args[..], &["--log-format", "json", "--status-every", "0"]].concat();
    let (mut child, guard) = spawn(&args, Stdio::piped());
    let (stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let (sender, events) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                let _ = sender.send(value);
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut seen = Vec::new();
    let limit = Duration::from_secs(60);
    wait_for(&events, &mut seen, limit, "ready", |e| {
        e["event"] == "ready"
    });
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    wait_for(&events, &mut seen, limit, "stopped", |e| {
        e["event"] == "stopped"
    });
    assert!(child.wait().unwrap().success());
    drop(guard);
    let stderr = errors.join().unwrap();
    assert_eq!(
        stderr.matches(WARNING).count(),
        1,
        "the warning once, not once per reading of the template: {stderr}"
    );
}

/// The message for a port in use: the address, the likely holder, the flag to change, once.
fn assert_explains_port_in_use(stderr: &str, addr: &str, flag: &str) {
    assert_eq!(
        stderr.matches("cannot listen on").count(),
        1,
        "said once: {stderr}"
    );
    assert!(
        !stderr.contains("Address already in use (os error"),
        "no raw OS error, least of all twice: {stderr}"
    );
    for wanted in [
        &format!("cannot listen on {addr}"),
        "another process is already listening there",
        "another `riffle local` or `riffle emulator`",
        flag,
        "port 0 picks a free one",
    ] {
        assert!(stderr.contains(wanted), "no {wanted:?} in: {stderr}");
    }
}

#[test]
fn local_on_a_port_in_use_names_the_address_and_how_to_choose_another() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let port = taken.local_addr().unwrap().port().to_string();
    let template = TemplateFile::new("port-in-use", WARNING_TEMPLATE);
    let limit = Duration::from_secs(60);

    let (status, stderr) = stderr_of(
        &["local", "--template", template.path(), "--port", &port],
        limit,
    );
    assert!(!status.success());
    assert_explains_port_in_use(&stderr, &addr, "--port <PORT>");

    let (status, stderr) = stderr_of(&["emulator", "--port", &port], limit);
    assert!(!status.success());
    assert_explains_port_in_use(&stderr, &addr, "--port <PORT>");

    // With --endpoint-url the control API listens on --control-port. The endpoint is never
    // reached: the listener fails first.
    let (status, stderr) = stderr_of(
        &[
            "local",
            "--template",
            template.path(),
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--control-port",
            &port,
        ],
        limit,
    );
    assert!(!status.success());
    assert_explains_port_in_use(&stderr, &addr, "--control-port <PORT>");
    drop(taken);
}
