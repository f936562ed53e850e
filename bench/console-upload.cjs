// Drives Debian's Chromium (puppeteer-core, from the web-quality tools) through
// the console's upload page: signs in, hands the file input every file, and
// waits until the page says all are finished. Prints one JSON line: seconds
// from handing the files over to "finished", and the page's JS heap before
// and after (MB).
//
//   node bench/console-upload.cjs URL LOGIN PASSWORD FILE...
// Env: WEB_QUALITY (folder with node_modules), CHROMIUM (default /usr/bin/chromium).
"use strict";
const path = require("path");
const quality = process.env.WEB_QUALITY;
const puppeteer = require(path.join(quality, "node_modules", "puppeteer-core"));

(async () => {
  const [url, login, password, ...files] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(url + "/admin/sign-in");
    await page.type("#login", login);
    await page.type("#password", password);
    await Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
    await page.goto(url + "/admin/upload");
    const heap = async () => (await page.metrics()).JSHeapUsedSize / 1e6;
    const before = await heap();
    const input = await page.$("#file");
    const started = Date.now();
    await input.uploadFile(...files);
    let peak = before;
    for (;;) {
      const text = await page.$eval("#overall-text", (e) => e.textContent);
      if (text.includes("finished")) {
        if (text.includes("refused")) throw new Error("some files were refused: " + text);
        break;
      }
      peak = Math.max(peak, await heap());
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    const after = await heap();
    console.log(JSON.stringify({ seconds, heap_before_mb: before, heap_peak_mb: Math.max(peak, after), heap_after_mb: after }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
