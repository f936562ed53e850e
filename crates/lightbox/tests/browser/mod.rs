//! A real browser for the admin console's tests: Debian's headless Chromium
//! driven through its chromedriver (WebDriver), both started per test and
//! stopped with it. `.ci/run` installs them (`chromium`, `chromium-driver`);
//! `LIGHTBOX_TEST_CHROMIUM` / `LIGHTBOX_TEST_CHROMEDRIVER` point elsewhere.
//!
//! Screenshots go to `target/screenshots/` of the workspace (kept by CI as
//! artefacts, and looked at by people). axe-core comes from npm: `.ci/run`
//! installs `.ci/web-quality/package.json` into
//! `$CARGO_TARGET_DIR/tools/web-quality` (or set `LIGHTBOX_TEST_WEB_QUALITY`
//! to a folder holding `node_modules`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
    /// Prefix of this test's screenshot files.
    name: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// The folder whose `node_modules` holds axe-core and Lighthouse.
pub fn web_quality() -> PathBuf {
    let dir = std::env::var_os("LIGHTBOX_TEST_WEB_QUALITY")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("tools/web-quality"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/lightbox/target/tools/web-quality"))
        })
        .unwrap_or_default();
    assert!(
        dir.join("node_modules/axe-core/axe.min.js").is_file(),
        "axe-core and Lighthouse are not installed in {} (bash .ci/run installs them: \
         npm ci in a copy of .ci/web-quality/)",
        dir.display()
    );
    dir
}

pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

impl Browser {
    /// A fresh browser (empty profile), 1280×900. `name` and the engine
    /// prefix its screenshots.
    pub async fn start(name: &str, engine: lightbox_testkit::Engine) -> Browser {
        let name = format!("{name}-{}", format!("{engine:?}").to_lowercase());
        let chromium =
            std::env::var("LIGHTBOX_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver = std::env::var("LIGHTBOX_TEST_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {chromedriver} (apt-get install chromium-driver; .ci/run does): {e}")
            });
        let profile = std::env::temp_dir().join(format!(
            "lightbox-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                // As root in CI: no sandbox. No background traffic: the
                // machine has no internet, and the console must need none.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--disable-features=Translate,MediaRouter",
                    "--window-size=1280,900", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }
        });
        let caps = match caps {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let _ = std::fs::create_dir_all(screenshot_dir());
                    return Browser {
                        client,
                        driver,
                        profile,
                        name,
                    };
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {url} never gave a session: {last}");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("url: {e}"));
        let mut path = url.path().to_owned();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        path
    }

    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no element {css} on {}: {e}", self.path().await),
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
            .is_empty()
    }

    pub async fn text(&self, css: &str) -> String {
        // A page that reloads itself (a progress page) may replace the
        // element between finding and reading it: find it again.
        let mut tries = 0;
        loop {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(e) if tries < 20 && e.to_string().contains("stale element") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("text of {css}: {e}"),
            }
        }
    }

    /// The page's `<main>` text.
    pub async fn main_text(&self) -> String {
        self.text("main").await
    }

    /// Clears a field and types into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks something that stays on the page (a checkbox, a script button).
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks a link or submit button and waits for the next page to load.
    pub async fn follow(&self, css: &str) {
        let element = self.find(css).await;
        self.navigate_by(element, css).await;
    }

    /// Clicks the link or button whose text is exactly `label`, and waits
    /// for the page it leads to.
    pub async fn click_text(&self, label: &str) {
        let element = self.labelled(label).await;
        self.navigate_by(element, label).await;
    }

    /// Clicks the button whose text is exactly `label`, staying on the page.
    pub async fn press(&self, label: &str) {
        self.labelled(label)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {label:?}: {e}"));
    }

    async fn labelled(&self, label: &str) -> Element {
        let xpath =
            format!("//a[normalize-space()='{label}'] | //button[normalize-space()='{label}']");
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("nothing labelled {label:?} on {}: {e}", self.path().await),
        }
    }

    /// Types `keys` into the element `css` (it takes the focus first), as
    /// a person with only a keyboard does: Enter, Space, text.
    pub async fn keys(&self, css: &str, keys: &str) {
        self.find(css)
            .await
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("keys into {css}: {e}"));
    }

    /// [`Browser::keys`] that leads to a new page (Enter on a link or a
    /// submit button), waiting for it to load.
    pub async fn keys_follow(&self, css: &str, keys: &str) {
        self.js("window.__lightboxOldPage = true; return null;")
            .await;
        self.keys(css, keys).await;
        self.wait_for_new_page(css).await;
    }

    /// Clicks and waits until a new document has replaced this one and
    /// loaded (a mark left on the old one is gone).
    async fn navigate_by(&self, element: Element, what: &str) {
        self.js("window.__lightboxOldPage = true; return null;")
            .await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {what}: {e}"));
        self.wait_for_new_page(what).await;
    }

    async fn wait_for_new_page(&self, what: &str) {
        for _ in 0..200 {
            let loaded = self
                .client
                .execute(
                    "return window.__lightboxOldPage === undefined && document.readyState === 'complete';",
                    Vec::new(),
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "clicking {what} led to no new page (still {})",
            self.path().await
        );
    }

    pub async fn checked(&self, css: &str) -> bool {
        self.find(css)
            .await
            .prop("checked")
            .await
            .unwrap_or_else(|e| panic!("checked {css}: {e}"))
            .is_some_and(|v| v == "true")
    }

    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("value {css}: {e}"))
            .unwrap_or_default()
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize: {e}"));
    }

    /// Saves a PNG of the whole page as `target/screenshots/<test>-<engine>-<page>.png`,
    /// after checking what every console page must satisfy.
    pub async fn shot(&self, page: &str) {
        self.check_page().await;
        // The window grows to the page's height for the picture, then returns.
        let (width, height) = self
            .client
            .get_window_size()
            .await
            .unwrap_or_else(|e| panic!("window size: {e}"));
        let full = self
            .js("return document.documentElement.scrollHeight;")
            .await;
        let full = full.as_u64().unwrap_or(0).min(5000);
        let size = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        if full > height {
            self.resize(size(width), size(full)).await;
        }
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        if full > height {
            self.resize(size(width), size(height)).await;
        }
        let file = screenshot_dir().join(format!("{}-{page}.png", self.name));
        std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    }

    /// axe-core (npm, from [`web_quality`]) finds no accessibility
    /// violation on the page as it is now; `what` names it in the failure.
    pub async fn assert_axe_passes(&self, what: &str) {
        let axe = std::fs::read_to_string(web_quality().join("node_modules/axe-core/axe.min.js"))
            .unwrap_or_else(|e| panic!("read axe-core: {e}"));
        // WebDriver scripts are not the page's: its CSP allows none.
        self.js(&axe).await;
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                    .then(r => done(r.violations.map(v => ({id: v.id, help: v.help,
                        nodes: v.nodes.map(n => n.html)}))))
                    .catch(e => done([{id: 'axe failed', help: String(e)}]));",
                Vec::new(),
            )
            .await
            .unwrap_or_else(|e| panic!("run axe on {what}: {e}"));
        assert_eq!(result, json!([]), "axe on {what}: {result:#}");
    }

    /// Every form control has a label people and screen readers see (and
    /// axe-core agrees, [`Self::assert_axe_passes`]); the
    /// page asked nothing from another origin; nothing is wider than the
    /// window (works on a phone).
    pub async fn check_page(&self) {
        let unlabelled = self
            .js(
                "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                    .map(e => e.outerHTML);",
            )
            .await;
        assert_eq!(
            unlabelled,
            json!([]),
            "unlabelled controls on {}",
            self.path().await
        );
        let foreign = self
            .js(
                "return performance.getEntriesByType('resource').map(e => e.name)
                    .filter(n => new URL(n).origin !== location.origin);",
            )
            .await;
        assert_eq!(
            foreign,
            json!([]),
            "requests to other origins from {}",
            self.path().await
        );
        let overflow = self
            .js("return document.documentElement.scrollWidth > window.innerWidth + 1;")
            .await;
        assert_eq!(
            overflow,
            json!(false),
            "wider than the window: {}",
            self.path().await
        );
        let h1 = self
            .js("return document.querySelectorAll('h1').length;")
            .await;
        assert_eq!(h1, json!(1), "one h1 per page: {}", self.path().await);
        // And axe-core finds nothing to fix (every page a test pictures).
        let here = self.path().await;
        self.assert_axe_passes(&here).await;
    }

    /// The console cookie, for requests made beside the browser.
    pub async fn console_cookie(&self) -> Option<String> {
        self.client
            .get_named_cookie("lightbox_console")
            .await
            .ok()
            .map(|c| c.value().to_owned())
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
        let mut driver = self.driver;
        let _ = driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
