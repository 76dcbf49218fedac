// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title A constant-product pool (x * y = k) of two tokens
/// @notice Just enough of a market for the fee router to swap through: no liquidity
/// shares, no pool fee, and liquidity once added stays for good. The fee is the router's.
/// Reserves are tracked, not read from balances, so tokens sent here by mistake do not
/// move the price.
contract MinimalPool {
    using SafeERC20 for IERC20;

    /// @notice The pool's tokens, ordered by address.
    IERC20 public immutable token0;
    IERC20 public immutable token1;

    uint256 public reserve0;
    uint256 public reserve1;

    /// @notice Someone added liquidity (it cannot be withdrawn).
    event LiquidityAdded(address indexed provider, uint256 amount0, uint256 amount1);
    /// @notice The reserves after every change, so a reader can follow the pool's price.
    event Sync(uint256 reserve0, uint256 reserve1);

    error IdenticalTokens(address token);
    error NotInPool(address token);
    error ZeroAmount();
    error NoLiquidity();
    error InsufficientOutput(uint256 amountOut, uint256 minAmountOut);

    constructor(IERC20 tokenA, IERC20 tokenB) {
        if (tokenA == tokenB) revert IdenticalTokens(address(tokenA));
        (token0, token1) = address(tokenA) < address(tokenB) ? (tokenA, tokenB) : (tokenB, tokenA);
    }

    /// @notice Pulls `amount0` of token0 and `amount1` of token1 from the caller into the pool.
    function addLiquidity(uint256 amount0, uint256 amount1) external {
        if (amount0 == 0 || amount1 == 0) revert ZeroAmount();
        reserve0 += amount0;
        reserve1 += amount1;
        token0.safeTransferFrom(msg.sender, address(this), amount0);
        token1.safeTransferFrom(msg.sender, address(this), amount1);
        emit LiquidityAdded(msg.sender, amount0, amount1);
        emit Sync(reserve0, reserve1);
    }

    /// @notice What `amountIn` of `tokenIn` buys of the other token now.
    function quote(address tokenIn, uint256 amountIn) public view returns (uint256 amountOut) {
        (uint256 reserveIn, uint256 reserveOut) = _reserves(tokenIn);
        if (reserveIn == 0 || reserveOut == 0) revert NoLiquidity();
        return (amountIn * reserveOut) / (reserveIn + amountIn);
    }

    /// @notice The other token of the pair.
    function otherToken(address token) public view returns (address) {
        if (token == address(token0)) return address(token1);
        if (token == address(token1)) return address(token0);
        revert NotInPool(token);
    }

    /// @notice Sells `amountIn` of `tokenIn` (pulled from the caller) and sends what it buys
    /// to `recipient`; reverts if that is less than `minAmountOut` (or nothing at all).
    function swap(
        address tokenIn,
        uint256 amountIn,
        uint256 minAmountOut,
        address recipient
    ) external returns (uint256 amountOut) {
        if (amountIn == 0) revert ZeroAmount();
        amountOut = quote(tokenIn, amountIn);
        if (amountOut == 0 || amountOut < minAmountOut) {
            revert InsufficientOutput(amountOut, minAmountOut);
        }
        if (tokenIn == address(token0)) {
            reserve0 += amountIn;
            reserve1 -= amountOut;
        } else {
            reserve1 += amountIn;
            reserve0 -= amountOut;
        }
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        IERC20(otherToken(tokenIn)).safeTransfer(recipient, amountOut);
        emit Sync(reserve0, reserve1);
    }

    function _reserves(address tokenIn) private view returns (uint256 reserveIn, uint256 reserveOut) {
        if (tokenIn == address(token0)) return (reserve0, reserve1);
        if (tokenIn == address(token1)) return (reserve1, reserve0);
        revert NotInPool(tokenIn);
    }
}
