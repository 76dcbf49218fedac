// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FeeRouter} from "../FeeRouter.sol";

/// @title The fee router's second version, for the upgrade test: fees per route
/// @notice Everything of version 1 stays where it is stored; the new state lives in a
/// namespace of its own, which is how an upgrade adds state without touching the old.
/// @dev It needs no initializer of its own: it is only ever reached by upgrading a
/// version 1 proxy, whose `initialize` (inherited, and still guarded by `initializer`) ran
/// when the proxy was deployed, and its new namespace starts empty on purpose.
/// @custom:oz-upgrades-from FeeRouter
/// @custom:oz-upgrades-unsafe-allow missing-initializer
contract FeeRouterV2 is FeeRouter {
    struct RouteFee {
        bool set;
        uint16 feeBps;
    }

    /// @custom:storage-location erc7201:impressox.storage.FeeRouterV2
    struct FeeRouterV2Storage {
        mapping(bytes32 routeId => RouteFee fee) routeFees;
    }

    // keccak256(abi.encode(uint256(keccak256("impressox.storage.FeeRouterV2")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_LOCATION_V2 =
        0xf0eecf8a0e68432eafe7d7b2f26f57821fc7848e0eff704f89c56372246a5a00;

    event RouteFeeChanged(bytes32 indexed routeId, uint16 feeBps);

    function version() external pure override returns (uint256) {
        return 2;
    }

    /// @notice Gives `routeId` a fee of its own instead of the router's.
    function setRouteFee(bytes32 routeId, uint16 feeBps_) external onlyOwner {
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        _storageV2().routeFees[routeId] = RouteFee({set: true, feeBps: feeBps_});
        emit RouteFeeChanged(routeId, feeBps_);
    }

    function _feeBpsFor(bytes32 routeId) internal view override returns (uint16) {
        RouteFee memory own = _storageV2().routeFees[routeId];
        return own.set ? own.feeBps : super._feeBpsFor(routeId);
    }

    function _storageV2() private pure returns (FeeRouterV2Storage storage $) {
        assembly {
            $.slot := STORAGE_LOCATION_V2
        }
    }
}
