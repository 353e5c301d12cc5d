// Run after tsc has compiled the tests into .test-build: marks the folder CommonJS, and leaves an
// empty module for each stylesheet, since a screen imports its styles (the bundler's business)
// and Node would otherwise refuse to load it.
const fs = require("fs");

fs.writeFileSync(".test-build/package.json", '{"type":"commonjs"}');
for (const name of fs.readdirSync("src")) {
  if (name.endsWith(".css")) fs.writeFileSync(`.test-build/src/${name}`, "");
}
