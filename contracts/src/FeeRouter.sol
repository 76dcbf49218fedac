// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {MinimalPool} from "./MinimalPool.sol";

/// @title Impressox's fee router: swaps through registered pools and takes a fee
/// @notice Deployed behind an ERC-1967 proxy and upgraded the UUPS way: the upgrade
/// function lives here, guarded by the owner, and the proxy refuses an implementation
/// that is not UUPS. Its state lives in an ERC-7201 namespace, so a later version adds
/// fields (or namespaces) without colliding with what is stored.
/// @dev Every swap emits `FeeCollected` (when the fee is not zero) and then `Swap`: these
/// are the events Impressox's chain watcher decodes and alerts on. There is no reentrancy
/// guard, on purpose: a swap updates its state before any external call, the router holds
/// no balance between calls, and only the owner registers the pools (and so the tokens)
/// it calls into; a reentered swap is just another swap paid by its own caller.
contract FeeRouter is Initializable, OwnableUpgradeable, UUPSUpgradeable {
    using SafeERC20 for IERC20;

    /// @notice The highest fee the owner may set: 10%.
    uint16 public constant MAX_FEE_BPS = 1000;
    uint16 private constant BPS = 10_000;

    /// @custom:storage-location erc7201:impressox.storage.FeeRouter
    struct FeeRouterStorage {
        address feeRecipient;
        uint16 feeBps;
        mapping(bytes32 routeId => MinimalPool pool) pools;
        mapping(address token => uint256 amount) feesCollected;
    }

    // keccak256(abi.encode(uint256(keccak256("impressox.storage.FeeRouter")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_LOCATION =
        0xe87f2320b80d1e0528f016b501aa101739ac6a01c4501b4dcc7cbd7d66336300;

    /// @notice A route now swaps through `pool`, a pair of `token0` and `token1`.
    event RouteSet(bytes32 indexed routeId, address indexed pool, address token0, address token1);
    event FeeChanged(uint16 previousFeeBps, uint16 feeBps);
    event FeeRecipientChanged(address indexed previousRecipient, address indexed recipient);
    /// @notice `payer` paid `amount` of `token` as the fee of a swap on `routeId`.
    event FeeCollected(address indexed payer, address indexed token, uint256 amount, bytes32 routeId);
    /// @notice `payer` sold `amountIn` of `tokenIn` (fee included) for `amountOut` of
    /// `tokenOut`, sent to `recipient`.
    event Swap(
        address indexed payer,
        address indexed recipient,
        bytes32 indexed routeId,
        address tokenIn,
        address tokenOut,
        uint256 amountIn,
        uint256 fee,
        uint256 amountOut
    );

    error FeeTooHigh(uint16 feeBps, uint16 maxFeeBps);
    error ZeroAddress();
    error ZeroAmount();
    error UnknownRoute(bytes32 routeId);
    error TokenNotInRoute(bytes32 routeId, address token);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Sets the owner (who may add routes, change the fee and upgrade), where fees
    /// go, and the fee in basis points. Called once, through the proxy, when it is deployed.
    function initialize(address owner_, address feeRecipient_, uint16 feeBps_) external initializer {
        __Ownable_init(owner_);
        _setFeeRecipient(feeRecipient_);
        _setFee(feeBps_);
    }

    /// @notice The implementation's version: 1.
    function version() external pure virtual returns (uint256) {
        return 1;
    }

    function feeBps() external view returns (uint16) {
        return _storage().feeBps;
    }

    function feeRecipient() external view returns (address) {
        return _storage().feeRecipient;
    }

    /// @notice Every fee ever collected in `token`, in its smallest unit.
    function feesCollected(address token) external view returns (uint256) {
        return _storage().feesCollected[token];
    }

    /// @notice The pool a route swaps through (the zero address for an unknown route).
    function poolOf(bytes32 routeId) external view returns (address) {
        return address(_storage().pools[routeId]);
    }

    function setRoute(bytes32 routeId, MinimalPool pool) external onlyOwner {
        if (address(pool) == address(0)) revert ZeroAddress();
        _storage().pools[routeId] = pool;
        emit RouteSet(routeId, address(pool), address(pool.token0()), address(pool.token1()));
    }

    function setFee(uint16 feeBps_) external onlyOwner {
        _setFee(feeBps_);
    }

    function setFeeRecipient(address feeRecipient_) external onlyOwner {
        _setFeeRecipient(feeRecipient_);
    }

    /// @notice What selling `amountIn` of `tokenIn` on `routeId` would pay in fee and buy now.
    function quote(
        bytes32 routeId,
        address tokenIn,
        uint256 amountIn
    ) external view returns (uint256 amountOut, uint256 fee) {
        MinimalPool pool = _routePool(routeId, tokenIn);
        fee = _fee(routeId, amountIn);
        amountOut = pool.quote(tokenIn, amountIn - fee);
    }

    /// @notice Sells `amountIn` of `tokenIn` (pulled from the caller, who approved this
    /// router) on `routeId`: the fee goes to the fee recipient, the rest through the pool,
    /// and what it buys to `recipient`. Reverts if that is less than `minAmountOut`.
    function swap(
        bytes32 routeId,
        address tokenIn,
        uint256 amountIn,
        uint256 minAmountOut,
        address recipient
    ) external returns (uint256 amountOut) {
        if (amountIn == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroAddress();
        MinimalPool pool = _routePool(routeId, tokenIn);
        FeeRouterStorage storage $ = _storage();
        uint256 fee = _fee(routeId, amountIn);
        $.feesCollected[tokenIn] += fee;

        IERC20 input = IERC20(tokenIn);
        input.safeTransferFrom(msg.sender, address(this), amountIn);
        if (fee > 0) {
            input.safeTransfer($.feeRecipient, fee);
            emit FeeCollected(msg.sender, tokenIn, fee, routeId);
        }
        input.forceApprove(address(pool), amountIn - fee);
        amountOut = pool.swap(tokenIn, amountIn - fee, minAmountOut, recipient);
        emit Swap(msg.sender, recipient, routeId, tokenIn, pool.otherToken(tokenIn), amountIn, fee, amountOut);
    }

    /// @dev The fee rate of a route: one rate for all in this version.
    function _feeBpsFor(bytes32 /* routeId */) internal view virtual returns (uint16) {
        return _storage().feeBps;
    }

    /// @dev Only the owner may upgrade; the proxy checks the new implementation is UUPS.
    function _authorizeUpgrade(address) internal override onlyOwner {}

    function _fee(bytes32 routeId, uint256 amountIn) private view returns (uint256) {
        return (amountIn * _feeBpsFor(routeId)) / BPS;
    }

    function _routePool(bytes32 routeId, address tokenIn) private view returns (MinimalPool pool) {
        pool = _storage().pools[routeId];
        if (address(pool) == address(0)) revert UnknownRoute(routeId);
        if (tokenIn != address(pool.token0()) && tokenIn != address(pool.token1())) {
            revert TokenNotInRoute(routeId, tokenIn);
        }
    }

    function _setFee(uint16 feeBps_) private {
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        FeeRouterStorage storage $ = _storage();
        emit FeeChanged($.feeBps, feeBps_);
        $.feeBps = feeBps_;
    }

    function _setFeeRecipient(address feeRecipient_) private {
        if (feeRecipient_ == address(0)) revert ZeroAddress();
        FeeRouterStorage storage $ = _storage();
        emit FeeRecipientChanged($.feeRecipient, feeRecipient_);
        $.feeRecipient = feeRecipient_;
    }

    function _storage() private pure returns (FeeRouterStorage storage $) {
        assembly {
            $.slot := STORAGE_LOCATION
        }
    }
}
