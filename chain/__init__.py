"""Our contracts as Python sees them: their exported ABIs and bytecode, deployments, the deployer.

`contracts/` (Solidity, Hardhat) is the one source of truth: `npm run export-abi` writes
`chain/abi/*.json`, which `artifacts` loads; `deployments` reads and writes where they
are deployed, per chain; `deploy` puts them on a node. The chain watcher builds on these.
"""
