// A compile cache for the jslab kernel (scripts/jslab_kernel.js), like Python's __pycache__ for notebook 06.
//
// tslab turns each cell into JavaScript with the TypeScript compiler: it type-checks the cell against everything
// the earlier cells declared and against the packages' types, which takes 50-600 ms a cell (most of notebook 06's
// time). The result depends only on its inputs: the cell's text, the declarations of the cells before it, the
// compiler and its options, the folder, and the installed packages. So it is kept on disk under that key, and a
// cell run again with the same inputs (Run All again, the tests, a restarted kernel) reuses it. An edited cell, a
// cell after an edited one, a different folder, or an install in any node_modules from the folder up (npm rewrites
// its node_modules/.package-lock.json) makes a different key: compiled afresh. A cell's type errors are part of its
// result: they come back from the cache too.
//
// Never cached: a cell that names a file of your own (`./x`, `../x`, `/x`, `/// <reference path=...>`: the file's
// content is not in the key), a cell whose earlier declarations still name one (tslab carries imports forward),
// and every cell after a `%%module` cell (a module defined in memory). The real compiler starts only when a cell is
// not in the cache, or for completion and inspection (Tab, Shift+Tab).
//
// Where: node_modules/.cache/jslab/ (the usual home of tools' caches; `npm ci` empties it), or
// COOKBOOK_JSLAB_CACHE_DIR. Off: COOKBOOK_JSLAB_CACHE=0.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const FORMAT = "1"; // change it when what a file holds changes
// A module path of your own: relative (./x, ../x) or absolute (/x), or a triple-slash reference to a file. Its content
// is not in the key, so a cell naming one, or following a cell that did (tslab carries imports on in the
// declarations), is always compiled.
const OWN_FILE = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*["'`](?:\.\.?[/"'`]|\/)|^\/\/\/\s*<reference\s+path=/m;

/** Whether the cache is off: COOKBOOK_JSLAB_CACHE=0 (or no, false, off). */
function cacheOff(env = process.env) {
  return ["0", "no", "false", "off"].includes((env.COOKBOOK_JSLAB_CACHE || "").trim().toLowerCase());
}

/**
 * npm's record of what is installed (node_modules/.package-lock.json, rewritten by every install) in each folder
 * from `cwd` up, where the compiler looks for packages and their types. Throws when there is none.
 */
function installedPackages(cwd) {
  const found = [];
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const record = path.join(dir, "node_modules", ".package-lock.json");
    if (fs.existsSync(record)) found.push([record, crypto.createHash("sha256").update(fs.readFileSync(record)).digest("hex")]);
    if (path.dirname(dir) === dir) break;
  }
  if (!found.length) throw new Error(`no node_modules/.package-lock.json from ${cwd} up`);
  return found;
}

/** What every key starts with: the compiler's version and options, Node's version, the folder, the installed packages. */
function keyBase({ tslabDir, options, cwd }) {
  const version = (dir) => JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
  return JSON.stringify([
    FORMAT,
    version(tslabDir),
    version(path.join(tslabDir, "..", "@tslab", "typescript-for-tslab")),
    process.version,
    options,
    cwd,
    installedPackages(cwd),
  ]);
}

/**
 * tslab's converter with the cache in front of `convert`. `createConverter` is tslab's; the real converter is made on
 * first need. `folder` holds the cache files; `base` is keyBase(...).
 */
function cachedConverter(createConverter, options, { folder, base }) {
  let real = null;
  let ownModules = false; // a %%module cell ran: later cells may import it, which the key cannot see
  const compiler = () => (real ??= createConverter(options));

  function convert(prevDecl, src) {
    if (ownModules || OWN_FILE.test(src) || OWN_FILE.test(prevDecl)) return compiler().convert(prevDecl, src);
    const key = crypto.createHash("sha256").update(`${base}\0${prevDecl}\0${src}`).digest("hex");
    const file = path.join(folder, `${key}.json`);
    try {
      return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      // not cached yet (or unreadable): compile
    }
    const result = compiler().convert(prevDecl, src);
    if (!result.sideOutputs) {
      try {
        fs.mkdirSync(folder, { recursive: true });
        const temporary = `${file}.${process.pid}.tmp`; // written whole, then renamed: never half a file
        fs.writeFileSync(temporary, JSON.stringify(result));
        fs.renameSync(temporary, file);
      } catch {
        // a read-only folder: run without the cache
      }
    }
    return result;
  }

  return {
    convert,
    inspect: (...args) => compiler().inspect(...args),
    complete: (...args) => compiler().complete(...args),
    addModule: (...args) => {
      ownModules = true;
      return compiler().addModule(...args);
    },
    close: () => real?.close(),
  };
}

/** Put the cache in front of tslab's converters (call before tslab's kernel starts). Does nothing when it is off. */
function installCompileCache(tslabDir, env = process.env) {
  if (cacheOff(env)) return;
  const converter = require(path.join(tslabDir, "dist", "converter.js"));
  const createConverter = converter.createConverter;
  const folder = env.COOKBOOK_JSLAB_CACHE_DIR || path.join(tslabDir, "..", ".cache", "jslab");
  converter.createConverter = (options) => {
    let base;
    try {
      base = keyBase({ tslabDir, options, cwd: process.cwd() });
    } catch {
      return createConverter(options); // no node_modules/.package-lock.json here or above (not npm 7+): no cache
    }
    return cachedConverter(createConverter, options, { folder, base });
  };
}

module.exports = { cachedConverter, cacheOff, installCompileCache, keyBase, OWN_FILE };
