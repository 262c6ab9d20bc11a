// The JavaScript kernel for Jupyter that notebooks/06_javascript_rest.ipynb runs on: tslab's, with two fixes.
//
//   node scripts/jslab_kernel.js --install .venv      register it as "jslab" in .venv/share/jupyter/kernels (make does this)
//   node scripts/jslab_kernel.js {connection_file}    what Jupyter runs (the kernelspec's argv)
//
// The first fix: tslab 1.0.22 answers kernel_info_request without the "status" field that the Jupyter messaging
// protocol requires. JupyterLab and nbclient do not mind; nbval (make test) reads the field and fails.
// Here tslab's reply gets status "ok" added, and tslab's own kernel starts, in JavaScript mode. The second fix: the
// kernel exits when the process that started it is gone (tslab would keep running after a killed JupyterLab).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const tslab = path.join(__dirname, "..", "node_modules", "tslab");
const startedBy = process.ppid; // read first thing: see the end of this file

if (process.argv[2] === "--install") {
  const prefix = path.resolve(process.argv[3] || ".venv");
  const folder = path.join(prefix, "share", "jupyter", "kernels", "jslab");
  const spec = {
    argv: [process.execPath, path.resolve(__filename), "{connection_file}"],
    display_name: "JavaScript (Node.js)",
    language: "javascript",
  };
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
  console.log(`Installed kernelspec jslab in ${folder}`);
} else {
  const { JupyterHandlerImpl } = require(path.join(tslab, "dist", "jupyter.js"));
  const kernelInfo = JupyterHandlerImpl.prototype.handleKernel;
  JupyterHandlerImpl.prototype.handleKernel = function handleKernel() {
    return { status: "ok", ...kernelInfo.call(this) };
  };
  const { startKernel } = require(path.join(tslab, "dist", "main.js"));
  const { version } = require(path.join(tslab, "package.json"));
  startKernel({ configPath: process.argv[2], jsKernel: true, enableFindLocal: false, globalVersion: version });
  // Exit with the process that started this kernel (Jupyter, nbclient): tslab never checks, so a Jupyter that was
  // killed would leave it running. An orphan is adopted by another process, so its parent id changes.
  setInterval(() => {
    if (process.ppid !== startedBy) process.exit(0);
  }, 1000).unref();
}
