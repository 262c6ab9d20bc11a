// The JavaScript kernel for Jupyter that notebooks/06_javascript_rest.ipynb runs on: tslab's, with two fixes.
//
//   node scripts/jslab_kernel.js --install .venv      register it as "jslab" in .venv/share/jupyter/kernels (make does this)
//   node scripts/jslab_kernel.js {connection_file}    what Jupyter runs (the kernelspec's argv)
//
// The first fix: tslab 1.0.22 answers kernel_info_request without the "status" field that the Jupyter messaging
// protocol requires. JupyterLab and nbclient do not mind; nbval (make test) reads the field and fails.
// Here tslab's reply gets status "ok" added, and tslab's own kernel starts, in JavaScript mode. The second fix: the
// kernel exits when the process that started it is gone (tslab would keep running after a killed JupyterLab).
//
// Zero setup, as helpers/autostart.py does for Python kernels: when no AZURE_INFERENCE_* variable is set (nor in a
// .env file) and nothing looks like a live setup, the kernel starts the bundled replay server (the .venv's Python,
// `python -m helpers.mock serve --port 0`) as a child that ends with it, and puts every variable that
// `python -m helpers.mock env` prints into its environment; COOKBOOK_AUTOSTARTED holds the server's URL, which the
// notebook prints. COOKBOOK_AUTOSTART=0 turns it off.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync, spawn } = require("node:child_process");

// The variables that say someone meant to be live (helpers.autostart.live_looking, after reading .env): none -> start.
const LIVE_LOOKING = "import os; from helpers.config import read_dotenv; from helpers.autostart import live_looking; " +
  "read_dotenv(); print(','.join(live_looking()))";

const tslab = path.join(__dirname, "..", "node_modules", "tslab");
const startedBy = process.ppid; // read first thing: see the end of this file

if (process.argv[2] === "--install") {
  const prefix = path.resolve(process.argv[3] || ".venv");
  const folder = path.join(prefix, "share", "jupyter", "kernels", "jslab");
  const spec = {
    argv: [process.execPath, path.resolve(__filename), "{connection_file}"],
    display_name: "JavaScript (Node.js)",
    language: "javascript",
    env: { COOKBOOK_PYTHON: path.join(prefix, process.platform === "win32" ? "Scripts" : "bin", "python") },
  };
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
  console.log(`Installed kernelspec jslab in ${folder}`);
} else {
  autostart().then(startJslab);
}

function autostart() {
  const python = process.env.COOKBOOK_PYTHON;
  const off = ["0", "no", "false", "off"].includes((process.env.COOKBOOK_AUTOSTART || "").trim().toLowerCase());
  if (off || !python || !fs.existsSync(python)) return Promise.resolve();
  // Set up already (make lab, make run, make test, your own .env exported): no need to ask Python.
  if (Object.keys(process.env).some((name) => name.startsWith("AZURE_INFERENCE_") && process.env[name].trim())) {
    return Promise.resolve();
  }
  try {
    if (execFileSync(python, ["-c", LIVE_LOOKING], { encoding: "utf8" }).trim()) return Promise.resolve();
  } catch (err) {
    console.error(`Not starting the replay server: ${err.message.split("\n")[0]}`); // the settings cell says what is missing
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const server = spawn(python, ["-m", "helpers.mock", "serve", "--port", "0"], { stdio: ["ignore", "pipe", "ignore"] });
    process.on("exit", () => server.kill());
    server.on("exit", () => resolve());
    let printed = "";
    server.stdout.on("data", (chunk) => {
      printed += chunk;
      const found = printed.match(/^openai-v1-endpoint http:\/\/127\.0\.0\.1:(\d+)\//m);
      if (!found || process.env.COOKBOOK_AUTOSTARTED) return;
      const lines = execFileSync(python, ["-m", "helpers.mock", "env", "--port", found[1]], { encoding: "utf8" });
      for (const line of lines.split("\n")) {
        const equals = line.indexOf("=");
        if (equals > 0) process.env[line.slice(0, equals)] = line.slice(equals + 1);
      }
      process.env.COOKBOOK_AUTOSTARTED = `http://127.0.0.1:${found[1]}`;
      resolve();
    });
  });
}

function startJslab() {
  const { JupyterHandlerImpl } = require(path.join(tslab, "dist", "jupyter.js"));
  const kernelInfo = JupyterHandlerImpl.prototype.handleKernel;
  JupyterHandlerImpl.prototype.handleKernel = function handleKernel() {
    return { status: "ok", ...kernelInfo.call(this) };
  };
  require("./jslab_compile_cache.js").installCompileCache(tslab);
  const { startKernel } = require(path.join(tslab, "dist", "main.js"));
  const { version } = require(path.join(tslab, "package.json"));
  startKernel({ configPath: process.argv[2], jsKernel: true, enableFindLocal: false, globalVersion: version });
  // Exit with the process that started this kernel (Jupyter, nbclient): tslab never checks, so a Jupyter that was
  // killed would leave it running. An orphan is adopted by another process, so its parent id changes.
  setInterval(() => {
    if (process.ppid !== startedBy) process.exit(0);
  }, 1000).unref();
}
