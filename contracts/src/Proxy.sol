// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// OpenZeppelin's ERC-1967 proxy, compiled with our settings so that its ABI and bytecode
// are exported beside ours: the Python deployer puts the fee router behind it.
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
