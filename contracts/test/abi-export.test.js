// The committed export in chain/abi must be exactly what these sources compile to: the
// watcher decodes with those ABIs and the deployer deploys that bytecode.
const { expect } = require("chai");
const fs = require("node:fs");
const path = require("node:path");
const hre = require("hardhat");

const { OUT_DIR, buildExports } = require("../scripts/exports");

const HINT = "run `npm run export-abi` in contracts/ and commit chain/abi";

describe("chain/abi export", function () {
  it("matches a fresh compile, file for file", async function () {
    const fresh = await buildExports(hre);
    const committed = fs.existsSync(OUT_DIR)
      ? fs.readdirSync(OUT_DIR).filter((name) => name.endsWith(".json"))
      : [];
    expect(committed.sort(), `the exported files differ: ${HINT}`).to.deep.equal(
      [...fresh.keys()].sort(),
    );
    for (const [name, text] of fresh) {
      const onDisk = fs.readFileSync(path.join(OUT_DIR, name), "utf8");
      expect(onDisk === text, `chain/abi/${name} differs from a fresh compile: ${HINT}`).to.equal(
        true,
      );
    }
  });
});
