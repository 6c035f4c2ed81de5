//! The web dashboard of `riffle local`, in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver`) driven over WebDriver by `fantoccini`. The page must show
//! the mapping, count a record put through its own form, draw the journal's timeline (with an
//! injected fault marked as such, and filtered on request), list the failure record an on-failure
//! queue holds and redrive it with its button, and show the function's logs; for an SQS
//! mapping, list what its queue's dead-letter queue holds and move it back with the button.
//! Screenshots go to the test's temp dir and, when `RIFFLE_SCREENSHOT_DIR` is set, there too
//! (docs/dashboard.png is made that way).

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::cli::{
    kinesis_event, probe_function, queue_resource, riffle, sam_template, start_local, stdout,
    stream_resource, temp_dir,
};
use crate::support::{client, http_get, kinesis};

const MAPPING: &str = "ProbeRecords";
const STREAM: &str = "dash-stream";
const QUEUE: &str = "dash-failures";
const SHARD: &str = "shardId-000000000000";

/// How long the page may take to show something.
const LIMIT: Duration = Duration::from_secs(60);

/// One stream read by the probe (which logs its events and fails while `fail_file` exists),
/// no retries, failures to an on-failure queue.
fn template(fail_file: &Path) -> String {
    let events = kinesis_event(
        "Records",
        "Stream",
        "            MaximumRetryAttempts: 0
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt Failures.Arn
",
    );
    let properties = format!(
        "      Environment:\n        Variables:\n          PROBE_LOG_EVENTS: '1'\n          \
         PROBE_FAIL_FILE: {}\n      Events:\n{events}",
        fail_file.display()
    );
    sam_template(&[
        stream_resource("Stream", STREAM),
        queue_resource("Failures", QUEUE),
        probe_function("Probe", "probe", &properties),
    ])
}

/// `chromedriver` in a process group of its own, killed with the Chromium it started when
/// dropped (also when a test fails before closing its session).
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

const INSTALL: &str = "the dashboard's browser test needs Debian's Chromium and its WebDriver: \
                       apt-get install -y chromium chromium-driver (make browser and .ci/run \
                       install them)";

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts `chromedriver` on a free port and waits (bounded) until it accepts connections.
async fn start_driver() -> Driver {
    assert!(
        installed("chromium") && installed("chromedriver"),
        "{INSTALL}"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(INSTALL);
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    loop {
        ticker.tick().await;
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port} within 30 s"
        );
    }
    driver
}

/// A headless Chromium session, tall enough for the whole page in one screenshot.
async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1500"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver")
}

/// Where screenshots go: the test's directory, and `RIFFLE_SCREENSHOT_DIR` if set.
struct Shots {
    dirs: Vec<PathBuf>,
    prefix: String,
}

impl Shots {
    /// Screenshots of one test, named with `prefix`.
    fn new(dir: &Path, prefix: &str) -> Self {
        let mut dirs = vec![dir.join("screenshots")];
        dirs.extend(std::env::var_os("RIFFLE_SCREENSHOT_DIR").map(PathBuf::from));
        Self {
            dirs,
            prefix: prefix.to_owned(),
        }
    }

    async fn take(&self, page: &Client, name: &str) {
        let png = page.screenshot().await.expect("a screenshot");
        for dir in &self.dirs {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{}{name}.png", self.prefix)), &png).unwrap();
        }
    }
}

/// Waits (bounded) until the element `css` exists and its text satisfies `wanted`; its text.
async fn wait_text(
    page: &Client,
    shots: &Shots,
    css: &str,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + LIMIT;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut last = String::from("(no such element)");
    loop {
        ticker.tick().await;
        if let Ok(element) = page.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if wanted(&text) {
                return text;
            }
            last = text;
        }
        if Instant::now() >= deadline {
            shots.take(page, "failure").await;
            panic!(
                "the dashboard showed no {what} ({css}) within {LIMIT:?}; last seen: {last}; \
                 screenshot in {:?}",
                shots.dirs
            );
        }
    }
}

/// A browser on the dashboard of `endpoint`, once it shows `mapping` enabled.
async fn open(driver: &Driver, endpoint: &str, shots: &Shots, mapping: &str) -> Client {
    let page = browser(driver).await;
    page.goto(&format!("{endpoint}/_riffle/")).await.unwrap();
    wait_text(
        &page,
        shots,
        &format!("[data-mapping=\"{mapping}\"] [data-state]"),
        "enabled mapping",
        |t| t == "Enabled",
    )
    .await;
    page
}

/// Clicks the element `css`.
async fn click(page: &Client, css: &str) {
    page.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// How many elements `css` matches.
async fn count(page: &Client, css: &str) -> usize {
    page.find_all(Locator::Css(css)).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_puts_faults_failures_and_logs_in_a_browser() {
    let dir = temp_dir("dashboard");
    let fail_file = dir.join("fail");
    let (_child, _guard, _events, _seen, endpoint) = start_local(&dir, &template(&fail_file), "0");
    let shots = Shots::new(&dir, "");

    // The JSON the page reads; an unknown route under /_riffle/api/ is refused as any other
    // unknown route is (the emulator's own answer).
    let (status, overview) = http_get(&endpoint, "/_riffle/api/overview").await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["mappings"][0]["id"], MAPPING);
    assert_eq!(overview["streams"], json!([STREAM]));
    let unknown = http_get(&endpoint, "/_riffle/nope").await;
    assert_ne!(unknown.0, 200);
    assert_eq!(http_get(&endpoint, "/_riffle/api/nope").await, unknown);

    let driver = start_driver().await;
    let page = open(&driver, &endpoint, &shots, MAPPING).await;
    assert_eq!(page.title().await.unwrap(), "Riffle local");

    // A record put through the page's own form is read, invoked and journaled.
    let target = page.find(Locator::Id("put-target")).await.unwrap();
    target
        .select_by_value(&format!("stream:{STREAM}"))
        .await
        .unwrap();
    let data = page.find(Locator::Id("put-data")).await.unwrap();
    data.clear().await.unwrap();
    data.send_keys(r#"{"order":1}"#).await.unwrap();
    click(&page, "#put-submit").await;
    wait_text(&page, &shots, "#put-result", "put's answer", |t| {
        t.starts_with(&format!("put to {SHARD} as "))
    })
    .await;
    let invoked = format!("[data-counter=\"{MAPPING}.invoked_records\"]");
    wait_text(&page, &shots, &invoked, "invoked record", |t| t == "1").await;
    let timeline = format!("[data-timeline=\"{SHARD}\"]");
    wait_text(
        &page,
        &shots,
        &format!("{timeline} [data-kind=\"succeeded\"]"),
        "succeeded batch",
        |t| t.contains("1 record(s) done"),
    )
    .await;
    wait_text(
        &page,
        &shots,
        &format!("[data-shard=\"{SHARD}\"]"),
        "shard row",
        |t| t.contains(SHARD),
    )
    .await;

    // A fault rule fails the next invocation: the timeline says it was injected, and with no
    // retries the batch goes to the on-failure queue, which the page lists.
    let rule: Vec<&str> = "fault add --function Probe --fail --next 1"
        .split(' ')
        .collect();
    let added = riffle(&endpoint, &rule).await;
    stdout(&added);
    kinesis::put(&client(&endpoint), STREAM, "k", r#"{"order":2}"#).await;
    let injected = wait_text(
        &page,
        &shots,
        &format!("{timeline} [data-kind=\"fault_injected\"]"),
        "injected fault",
        |t| t.contains("fail (Riffle.InjectedFault) by riffle fault 1"),
    )
    .await;
    assert!(injected.to_lowercase().contains("injected"), "{injected}");
    wait_text(
        &page,
        &shots,
        &format!("{timeline} [data-kind=\"failed\"]"),
        "function error",
        |t| t.contains("Riffle.InjectedFault") && t.contains("batch "),
    )
    .await;
    let queue = format!("[data-queue=\"{QUEUE}\"]");
    let listed = wait_text(
        &page,
        &shots,
        &format!("{queue} li.message"),
        "failure record",
        |t| t.contains(&format!("1 record(s) of {SHARD}")),
    )
    .await;
    assert!(
        listed.contains("received 0×"),
        "peeking receives nothing: {listed}"
    );
    // Charts have samples by now.
    assert!(count(&page, &format!("[data-charts=\"{MAPPING}\"] path")).await > 0);
    shots.take(&page, "dashboard").await;

    // The journal's filter: injected faults only.
    click(&page, "#journal-filters input[value=\"faults\"]").await;
    wait_text(&page, &shots, &timeline, "filtered timeline", |t| {
        !t.contains("record(s) done") && t.contains("INJECTED")
    })
    .await;
    assert_eq!(
        count(&page, &format!("{timeline} [data-kind=\"invoked\"]")).await,
        0
    );
    assert!(count(&page, &format!("{timeline} [data-kind=\"fault_injected\"]")).await >= 1);
    shots.take(&page, "journal-faults").await;

    // The function's logs, by request id (the injected fault's request has its own lines).
    wait_text(&page, &shots, "#logs", "function logs", |t| {
        t.contains("event {")
    })
    .await;

    // Redrive: the rule is spent, so the function succeeds and the failure record goes.
    click(&page, &format!("{queue} button.redrive")).await;
    wait_text(
        &page,
        &shots,
        &format!("{queue} .redrive-result"),
        "redrive's answer",
        |t| t.starts_with("1 of 1 redriven"),
    )
    .await;
    wait_text(
        &page,
        &shots,
        &format!("{queue} [data-total]"),
        "empty queue",
        |t| t == "0 message(s)",
    )
    .await;
    shots.take(&page, "redriven").await;
    page.close().await.unwrap();
}

/// An SQS mapping whose queue sends a message to its dead-letter queue after one failed
/// receive; the probe fails while `fail_file` exists.
fn queue_template(fail_file: &Path) -> String {
    let jobs = "  Jobs:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: dash-jobs\n      \
                VisibilityTimeout: 10\n      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt \
                JobsDlq.Arn\n        maxReceiveCount: 1\n";
    let properties = format!(
        "      Environment:\n        Variables:\n          PROBE_FAIL_FILE: {}\n      Events:\n        \
         Jobs:\n          Type: SQS\n          Properties:\n            Queue: !GetAtt Jobs.Arn\n            \
         BatchSize: 1\n",
        fail_file.display()
    );
    sam_template(&[
        jobs.to_owned(),
        queue_resource("JobsDlq", "dash-jobs-dlq"),
        probe_function("Probe", "probe", &properties),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_queue_is_listed_and_its_redrive_moves_messages_back() {
    let dir = temp_dir("dashboard-dlq");
    let fail_file = dir.join("fail");
    std::fs::write(&fail_file, "").unwrap();
    let (_child, _guard, _events, _seen, endpoint) =
        start_local(&dir, &queue_template(&fail_file), "0");
    let shots = Shots::new(&dir, "dlq-");
    let driver = start_driver().await;
    let page = open(&driver, &endpoint, &shots, "ProbeJobs").await;

    // A message sent through the form fails, comes back once, and goes to the dead-letter queue.
    page.find(Locator::Id("put-target"))
        .await
        .unwrap()
        .select_by_value("queue:dash-jobs")
        .await
        .unwrap();
    let data = page.find(Locator::Id("put-data")).await.unwrap();
    data.clear().await.unwrap();
    data.send_keys("job-1").await.unwrap();
    click(&page, "#put-submit").await;
    wait_text(&page, &shots, "#put-result", "send's answer", |t| {
        t.starts_with("sent as ")
    })
    .await;
    let dlq = "[data-queue=\"dash-jobs-dlq\"]";
    let listed = wait_text(
        &page,
        &shots,
        &format!("{dlq} li.message"),
        "dead-lettered message",
        |t| t.contains("job-1"),
    )
    .await;
    assert!(listed.contains("received 1×"), "{listed}");
    let role = wait_text(&page, &shots, dlq, "dead-letter queue", |t| {
        t.contains("dead-letter queue of dash-jobs")
    })
    .await;
    assert!(role.contains("1 message(s)"), "{role}");

    // The function is fixed; the redrive moves the message back, where it now succeeds.
    std::fs::remove_file(&fail_file).unwrap();
    click(&page, &format!("{dlq} button.redrive")).await;
    wait_text(
        &page,
        &shots,
        &format!("{dlq} .redrive-result"),
        "redrive's answer",
        |t| t.starts_with("1 of 1 redriven") && t.contains("moved back to"),
    )
    .await;
    wait_text(
        &page,
        &shots,
        "[data-counter=\"ProbeJobs.deleted\"]",
        "the message deleted after a success",
        |t| t == "1",
    )
    .await;
    wait_text(
        &page,
        &shots,
        &format!("{dlq} [data-total]"),
        "empty dead-letter queue",
        |t| t == "0 message(s)",
    )
    .await;
    shots.take(&page, "redriven").await;
    page.close().await.unwrap();
}
