// Run after tsc has compiled the tests into .test-build: marks the folder CommonJS, and leaves an
// empty module for the stylesheet main.ts imports (the bundler's business; Node would refuse it).
const fs = require("fs");

fs.writeFileSync(".test-build/package.json", '{"type":"commonjs"}');
for (const name of fs.readdirSync("src")) {
  if (name.endsWith(".css")) fs.writeFileSync(`.test-build/src/${name}`, "");
}
