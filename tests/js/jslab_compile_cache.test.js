// node --test tests/js/jslab_compile_cache.test.js (tests/test_jslab_compile_cache.py runs it under make test)
"use strict";
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const { cachedConverter, installCompileCache, keyBase } = require("../../scripts/jslab_compile_cache.js");

/** A stand-in for tslab's createConverter that counts its compiles. */
function fakeCompiler(result = (prevDecl, src) => ({ output: `out(${src})`, declOutput: `${prevDecl}+`, diagnostics: [] })) {
  const calls = { created: 0, convert: 0, addModule: 0, closed: 0 };
  const createConverter = () => {
    calls.created += 1;
    return {
      convert: (prevDecl, src) => {
        calls.convert += 1;
        return result(prevDecl, src);
      },
      addModule: () => {
        calls.addModule += 1;
        return [];
      },
      inspect: () => ({ text: "inspected" }),
      complete: () => ({ candidates: [] }),
      close: () => {
        calls.closed += 1;
      },
    };
  };
  return { createConverter, calls };
}

const made = [];
const tmp = () => made[made.push(fs.mkdtempSync(path.join(os.tmpdir(), "jslab-cache-test-"))) - 1];
process.on("exit", () => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

test("the same cell after the same declarations compiles once", () => {
  const folder = tmp();
  const { createConverter, calls } = fakeCompiler();
  const first = cachedConverter(createConverter, {}, { folder, base: "b" }).convert("decls", "const a = 1;");
  const again = cachedConverter(createConverter, {}, { folder, base: "b" }); // a new kernel: nothing compiled yet
  assert.deepEqual(again.convert("decls", "const a = 1;"), first);
  assert.equal(calls.convert, 1);
  assert.equal(calls.created, 1, "a kernel whose cells are all cached never starts the compiler");
});

test("a cell's type errors come back from the cache", () => {
  const folder = tmp();
  const diagnostics = [{ start: { line: 0, character: 6 }, end: { line: 0, character: 9 }, messageText: "Cannot find name 'nope'.", category: 1, code: 2304 }];
  const { createConverter, calls } = fakeCompiler(() => ({ diagnostics }));
  cachedConverter(createConverter, {}, { folder, base: "b" }).convert("", "nope;");
  const cached = cachedConverter(createConverter, {}, { folder, base: "b" }).convert("", "nope;");
  assert.deepEqual(cached.diagnostics, diagnostics);
  assert.equal(calls.convert, 1);
});

test("an edited cell, other declarations before it, or another base compile afresh", () => {
  const folder = tmp();
  const { createConverter, calls } = fakeCompiler();
  const conv = cachedConverter(createConverter, {}, { folder, base: "b" });
  conv.convert("decls", "const a = 1;");
  assert.equal(conv.convert("decls", "const a = 2;").output, "out(const a = 2;)");
  conv.convert("other decls", "const a = 1;");
  cachedConverter(createConverter, {}, { folder, base: "another npm ci" }).convert("decls", "const a = 1;");
  assert.equal(calls.convert, 4);
});

test("cells that import your own files, and every cell after a %%module cell, are never cached", () => {
  const folder = tmp();
  const { createConverter, calls } = fakeCompiler();
  const conv = cachedConverter(createConverter, {}, { folder, base: "b" });
  const own = [
    'import { f } from "./mine";',
    "const m = require('../mine.js');",
    'const m = await import("./mine");',
    'import { f } from "/home/me/mine";',
    '/// <reference path="mine.d.ts" />\nconst a = 1;',
  ];
  for (const src of own) {
    conv.convert("", src);
    conv.convert("", src);
  }
  assert.equal(calls.convert, 10);
  // a later cell, whose declarations from the cells before it still import your file (tslab carries them forward)
  const carried = 'import { f } from "./mine";\ndeclare const r: number;\n';
  conv.convert(carried, "const s = f(r);");
  conv.convert(carried, "const s = f(r);");
  assert.equal(calls.convert, 12);
  conv.convert("", 'import OpenAI from "openai";'); // a package: cached from here on...
  conv.convert("", 'import OpenAI from "openai";');
  assert.equal(calls.convert, 13);
  conv.addModule("mine", "export const x = 1;", {});
  conv.convert("", 'import OpenAI from "openai";'); // ...but not after a module defined in memory
  assert.equal(calls.convert, 14);
  assert.equal(fs.readdirSync(folder).length, 1);
});

test("a result with side outputs (compiled files of your own) is not stored", () => {
  const folder = tmp();
  const { createConverter, calls } = fakeCompiler(() => ({ output: "x", diagnostics: [], sideOutputs: [{ path: "a.js", data: "" }] }));
  cachedConverter(createConverter, {}, { folder, base: "b" }).convert("", "const a = 1;");
  cachedConverter(createConverter, {}, { folder, base: "b" }).convert("", "const a = 1;");
  assert.equal(calls.convert, 2);
  assert.deepEqual(fs.readdirSync(folder), []);
});

test("completion and inspection start the compiler; close closes it only if it started", () => {
  const { createConverter, calls } = fakeCompiler();
  const conv = cachedConverter(createConverter, {}, { folder: tmp(), base: "b" });
  conv.close();
  assert.equal(calls.closed, 0);
  assert.deepEqual(conv.inspect("", "a", 0), { text: "inspected" });
  conv.close();
  assert.deepEqual([calls.created, calls.closed], [1, 1]);
});

test("the key changes with the installed packages (from the folder up), the folder and the options", () => {
  const project = tmp();
  const modules = path.join(project, "node_modules");
  const tslabDir = path.join(modules, "tslab");
  const notebooks = path.join(project, "notebooks");
  fs.mkdirSync(path.join(modules, "@tslab", "typescript-for-tslab"), { recursive: true });
  fs.mkdirSync(tslabDir);
  fs.mkdirSync(notebooks);
  fs.writeFileSync(path.join(tslabDir, "package.json"), '{"version": "1.0.22"}');
  fs.writeFileSync(path.join(modules, "@tslab", "typescript-for-tslab", "package.json"), '{"version": "5.0.4"}');
  const record = path.join(modules, ".package-lock.json");
  fs.writeFileSync(record, '{"packages": {"node_modules/openai": {"version": "6.49.0"}}}');
  const key = (cwd = notebooks, options = { isJS: true }) => keyBase({ tslabDir, options, cwd });
  const base = key();
  assert.equal(key(), base);
  assert.notEqual(key(project), base);
  assert.notEqual(key(notebooks, { isJS: false }), base);
  fs.writeFileSync(record, '{"packages": {"node_modules/openai": {"version": "6.50.0"}}}');
  assert.notEqual(key(), base, "a new install in the project's node_modules");
  const updated = key();
  fs.mkdirSync(path.join(notebooks, "node_modules"));
  fs.writeFileSync(path.join(notebooks, "node_modules", ".package-lock.json"), '{"packages": {}}');
  assert.notEqual(key(), updated, "packages installed in the notebook's own folder count too");
  fs.rmSync(record);
  fs.rmSync(path.join(notebooks, "node_modules"), { recursive: true });
  assert.throws(() => key(), /no node_modules\/.package-lock.json/, "nothing installed by npm: no key, no cache");
});

test("COOKBOOK_JSLAB_CACHE=0 leaves tslab's converter alone; without npm's record of node_modules, no cache", () => {
  const modules = tmp();
  const tslabDir = path.join(modules, "tslab");
  fs.mkdirSync(path.join(tslabDir, "dist"), { recursive: true });
  fs.mkdirSync(path.join(modules, "@tslab", "typescript-for-tslab"), { recursive: true });
  fs.writeFileSync(path.join(tslabDir, "package.json"), '{"version": "1.0.22"}');
  fs.writeFileSync(path.join(modules, "@tslab", "typescript-for-tslab", "package.json"), '{"version": "5.0.4"}');
  const converterFile = path.join(tslabDir, "dist", "converter.js");
  fs.writeFileSync(converterFile, "module.exports = {};");
  const converter = require(converterFile);
  const original = () => "tslab's own";
  converter.createConverter = original;
  installCompileCache(tslabDir, { COOKBOOK_JSLAB_CACHE: "0" });
  assert.equal(converter.createConverter, original);

  installCompileCache(tslabDir, {});
  assert.notEqual(converter.createConverter, original);
  const here = process.cwd();
  const nothingInstalled = tmp(); // no node_modules/.package-lock.json in it or above (the system's temporary folder)
  try {
    process.chdir(nothingInstalled);
    assert.equal(converter.createConverter({}), "tslab's own", "no npm record of the packages: tslab's converter, uncached");
    fs.mkdirSync(path.join(nothingInstalled, "node_modules"));
    fs.writeFileSync(path.join(nothingInstalled, "node_modules", ".package-lock.json"), "{}");
    assert.equal(typeof converter.createConverter({}).convert, "function", "with it: the cached converter");
  } finally {
    process.chdir(here);
  }
});
