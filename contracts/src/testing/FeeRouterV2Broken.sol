// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

/// @title A broken second version, for the test that an unsafe upgrade is refused
/// @notice It swaps the order of the first two fields of version 1's namespace, so the
/// fee would be read from where the recipient is stored: the storage-layout check must
/// refuse to upgrade to it.
contract FeeRouterV2Broken is Initializable, OwnableUpgradeable, UUPSUpgradeable {
    /// @custom:storage-location erc7201:impressox.storage.FeeRouter
    struct FeeRouterStorage {
        uint16 feeBps;
        address feeRecipient;
        mapping(bytes32 routeId => address pool) pools;
        mapping(address token => uint256 amount) feesCollected;
    }

    // The same namespace as FeeRouter's.
    bytes32 private constant STORAGE_LOCATION =
        0xe87f2320b80d1e0528f016b501aa101739ac6a01c4501b4dcc7cbd7d66336300;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function initialize(address owner_) external initializer {
        __Ownable_init(owner_);
    }

    function feeBps() external view returns (uint16) {
        return _storage().feeBps;
    }

    function _authorizeUpgrade(address) internal override onlyOwner {}

    function _storage() private pure returns (FeeRouterStorage storage $) {
        assembly {
            $.slot := STORAGE_LOCATION
        }
    }
}
