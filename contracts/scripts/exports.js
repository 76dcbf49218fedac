// What the Python side reads: for each contract it deploys or watches, its ABI and creation
// bytecode, with the compiler settings that produced them. Written to chain/abi/<Name>.json
// (a Python package's data); test/abi-export.test.js fails when the committed files differ
// from a fresh compile, so the ABIs have one source of truth: the Solidity here.
const path = require("node:path");

/** The exported contracts: everything chain/deploy.py deploys (the router's events arrive
 * from the proxy's address, decoded by FeeRouter's ABI). Test-only contracts stay out. */
const EXPORTED = ["TestToken", "MinimalPool", "FeeRouter", "ERC1967Proxy"];

const OUT_DIR = path.resolve(__dirname, "..", "..", "chain", "abi");

/** Returns Map(file name -> file text) of the export, from the compiled artifacts. */
async function buildExports(hre) {
  const files = new Map();
  for (const name of EXPORTED) {
    const artifact = await hre.artifacts.readArtifact(name);
    if (Object.keys(artifact.linkReferences).length > 0) {
      throw new Error(`${name} needs linked libraries, which the Python deployer does not do`);
    }
    const buildInfo = await hre.artifacts.getBuildInfo(`${artifact.sourceName}:${name}`);
    const { evmVersion, optimizer } = buildInfo.input.settings;
    const exported = {
      contractName: artifact.contractName,
      sourceName: artifact.sourceName,
      compiler: { version: buildInfo.solcLongVersion, evmVersion, optimizer },
      abi: artifact.abi,
      bytecode: artifact.bytecode,
    };
    files.set(`${name}.json`, `${JSON.stringify(exported, null, 2)}\n`);
  }
  return files;
}

module.exports = { EXPORTED, OUT_DIR, buildExports };
