// Hardhat 2 on the Node.js the machine has (20+), compiling with solc-js from node_modules.
//
// Hardhat would otherwise download a native solc (and its list of builds) on first compile;
// here the compiler is the npm `solc` package pinned in package.json, so building and testing
// need nothing but the installed packages. Changing SOLC_VERSION means changing that pin too.
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

require("@nomicfoundation/hardhat-ethers");
require("@nomicfoundation/hardhat-chai-matchers");
require("@openzeppelin/hardhat-upgrades");

const SOLC_VERSION = "0.8.28";
// Pinned, not left to the compiler's default: the bytecode (exported to chain/abi) must not
// change with a compiler upgrade. Cancun runs on anvil and on every chain we watch.
const EVM_VERSION = "cancun";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }) => {
  const solc = require("solc");
  const installed = require("solc/package.json").version;
  if (solcVersion !== installed) {
    throw new Error(
      `hardhat.config.js asks for solc ${solcVersion} but the npm package solc is ${installed}:` +
        " pin the same version in both",
    );
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: installed,
    longVersion: solc.version().replace(/\.Emscripten\.clang$/, ""),
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
    },
  },
  paths: {
    sources: "src",
    tests: "test",
  },
  networks: {
    hardhat: { hardfork: EVM_VERSION },
  },
  mocha: { timeout: 60_000 },
};
