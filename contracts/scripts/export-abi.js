// `npm run export-abi`: compile, then (re)write chain/abi/*.json from the artifacts.
const fs = require("node:fs");
const path = require("node:path");
const hre = require("hardhat");

const { OUT_DIR, buildExports } = require("./exports");

async function main() {
  await hre.run("compile", { quiet: true });
  const files = await buildExports(hre);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const stale of fs.readdirSync(OUT_DIR)) {
    if (stale.endsWith(".json") && !files.has(stale)) fs.rmSync(path.join(OUT_DIR, stale));
  }
  for (const [name, text] of files) fs.writeFileSync(path.join(OUT_DIR, name), text);
  console.log(`wrote ${[...files.keys()].join(", ")} to ${path.relative(process.cwd(), OUT_DIR)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
