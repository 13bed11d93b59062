#!/usr/bin/env node
// Stands in for a native `solc` binary so that py-solc-x (and so brownie) can compile
// offline with the npm `solc` package (the official Emscripten build of the compiler).
//
// py-solc-x makes exactly two kinds of call, and this answers exactly those:
//   solc --version                                  -> "Version: <long version>"
//   solc --standard-json [--allow-paths a,b] [--base-path p]  (JSON on stdin)
// Imports that are not in the input are read from disk, but only below the base path,
// the allowed paths or the working directory, mirroring native solc's file access rules.
"use strict";

const fs = require("fs");
const path = require("path");

const projectRoot = path.resolve(__dirname, "..", "..");
const solc = require(require.resolve("solc", { paths: [projectRoot] }));

function fail(message) {
  process.stderr.write(`solcjs-wrapper: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { mode: null, roots: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--version") options.mode = "version";
    else if (arg === "--standard-json") options.mode = "standard-json";
    else if (arg === "--allow-paths" || arg === "--base-path" || arg === "--include-path") {
      const value = argv[++i];
      if (value === undefined) fail(`${arg} needs a value`);
      options.roots.push(...value.split(",").filter(Boolean));
    } else fail(`unsupported argument ${JSON.stringify(arg)}: only --version and --standard-json are implemented`);
  }
  if (!options.mode) fail("expected --version or --standard-json");
  return options;
}

function makeImportReader(roots) {
  const allowed = [process.cwd(), ...roots].map((root) => path.resolve(root));
  const isInside = (file, root) => file === root || file.startsWith(root + path.sep);
  return function readImport(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [path.resolve(importPath)]
      : allowed.map((root) => path.resolve(root, importPath));
    for (const candidate of candidates) {
      if (!allowed.some((root) => isInside(candidate, root))) continue;
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found inside the allowed paths: ${importPath}` };
  };
}

const options = parseArgs(process.argv.slice(2));
if (options.mode === "version") {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

const input = fs.readFileSync(0, "utf8");
const output = solc.compile(input, { import: makeImportReader(options.roots) });
process.stdout.write(output);
