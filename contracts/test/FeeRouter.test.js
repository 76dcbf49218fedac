const { expect } = require("chai");
const { ethers } = require("hardhat");
const { anyValue } = require("@nomicfoundation/hardhat-chai-matchers/withArgs");

const { FEE_BPS, ROUTE, LIQUIDITY_ETH, LIQUIDITY_USD, deployRouter, fund } = require("./fixtures");

const ONE_ETH = ethers.parseUnits("1", 18);

describe("FeeRouter", function () {
  let f;

  beforeEach(async function () {
    f = await deployRouter();
  });

  describe("initialisation", function () {
    it("records the owner, fee recipient and fee", async function () {
      expect(await f.router.owner()).to.equal(f.owner.address);
      expect(await f.router.feeRecipient()).to.equal(f.feeRecipient.address);
      expect(await f.router.feeBps()).to.equal(FEE_BPS);
      expect(await f.router.version()).to.equal(1n);
      expect(await f.router.poolOf(ROUTE)).to.equal(await f.pool.getAddress());
    });

    it("cannot be initialised twice", async function () {
      await expect(
        f.router.initialize(f.other.address, f.other.address, 0),
      ).to.be.revertedWithCustomError(f.router, "InvalidInitialization");
    });

    it("leaves the implementation itself uninitialisable", async function () {
      const implementation = await ethers.deployContract("FeeRouter");
      await expect(
        implementation.initialize(f.other.address, f.other.address, 0),
      ).to.be.revertedWithCustomError(implementation, "InvalidInitialization");
    });
  });

  describe("swap", function () {
    it("takes the fee, swaps the rest through the pool and emits FeeCollected then Swap", async function () {
      await fund(f, f.eth, ONE_ETH);
      const fee = (ONE_ETH * FEE_BPS) / 10_000n;
      const net = ONE_ETH - fee;
      const expectedOut = (net * LIQUIDITY_USD) / (LIQUIDITY_ETH + net);
      const [quotedOut, quotedFee] = await f.router.quote(ROUTE, f.eth, ONE_ETH);
      expect([quotedOut, quotedFee]).to.deep.equal([expectedOut, fee]);

      const tx = f.router.connect(f.trader).swap(ROUTE, f.eth, ONE_ETH, expectedOut, f.trader.address);
      await expect(tx)
        .to.emit(f.router, "FeeCollected")
        .withArgs(f.trader.address, await f.eth.getAddress(), fee, ROUTE);
      await expect(tx)
        .to.emit(f.router, "Swap")
        .withArgs(
          f.trader.address,
          f.trader.address,
          ROUTE,
          await f.eth.getAddress(),
          await f.usd.getAddress(),
          ONE_ETH,
          fee,
          expectedOut,
        );
      await expect(tx).to.emit(f.pool, "Sync").withArgs(anyValue, anyValue);

      expect(await f.eth.balanceOf(f.feeRecipient.address)).to.equal(fee);
      expect(await f.usd.balanceOf(f.trader.address)).to.equal(expectedOut);
      expect(await f.eth.balanceOf(f.router)).to.equal(0n);
      expect(await f.router.feesCollected(f.eth)).to.equal(fee);
    });

    it("sends what it buys to the recipient, not the payer", async function () {
      await fund(f, f.eth, ONE_ETH);
      await f.router.connect(f.trader).swap(ROUTE, f.eth, ONE_ETH, 0, f.other.address);
      expect(await f.usd.balanceOf(f.other.address)).to.be.greaterThan(0n);
      expect(await f.usd.balanceOf(f.trader.address)).to.equal(0n);
    });

    it("swaps both ways", async function () {
      const usdIn = ethers.parseUnits("3000", 6);
      await fund(f, f.usd, usdIn);
      await expect(f.router.connect(f.trader).swap(ROUTE, f.usd, usdIn, 0, f.trader.address))
        .to.emit(f.router, "FeeCollected")
        .withArgs(f.trader.address, await f.usd.getAddress(), (usdIn * FEE_BPS) / 10_000n, ROUTE);
      expect(await f.eth.balanceOf(f.trader.address)).to.be.greaterThan(0n);
    });

    it("emits no FeeCollected when the fee rounds to nothing or is zero", async function () {
      await f.router.setFee(0);
      await fund(f, f.eth, ONE_ETH);
      const tx = f.router.connect(f.trader).swap(ROUTE, f.eth, ONE_ETH, 0, f.trader.address);
      await expect(tx).not.to.emit(f.router, "FeeCollected");
      await expect(tx).to.emit(f.router, "Swap");
    });

    it("refuses less than the minimum out, and takes nothing", async function () {
      await fund(f, f.eth, ONE_ETH);
      const [quotedOut] = await f.router.quote(ROUTE, f.eth, ONE_ETH);
      await expect(
        f.router.connect(f.trader).swap(ROUTE, f.eth, ONE_ETH, quotedOut + 1n, f.trader.address),
      )
        .to.be.revertedWithCustomError(f.pool, "InsufficientOutput")
        .withArgs(quotedOut, quotedOut + 1n);
      expect(await f.eth.balanceOf(f.trader.address)).to.equal(ONE_ETH);
      expect(await f.router.feesCollected(f.eth)).to.equal(0n);
    });

    it("refuses an unknown route, a token not in the route, zero amounts and no recipient", async function () {
      await fund(f, f.eth, ONE_ETH);
      const trader = f.router.connect(f.trader);
      const unknown = ethers.encodeBytes32String("nope");
      await expect(trader.swap(unknown, f.eth, ONE_ETH, 0, f.trader.address))
        .to.be.revertedWithCustomError(f.router, "UnknownRoute")
        .withArgs(unknown);
      await expect(trader.swap(ROUTE, f.other.address, ONE_ETH, 0, f.trader.address))
        .to.be.revertedWithCustomError(f.router, "TokenNotInRoute")
        .withArgs(ROUTE, f.other.address);
      await expect(
        trader.swap(ROUTE, f.eth, 0, 0, f.trader.address),
      ).to.be.revertedWithCustomError(f.router, "ZeroAmount");
      await expect(
        trader.swap(ROUTE, f.eth, ONE_ETH, 0, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(f.router, "ZeroAddress");
    });

    it("needs the payer's approval", async function () {
      await f.eth.mint(f.trader.address, ONE_ETH);
      await expect(
        f.router.connect(f.trader).swap(ROUTE, f.eth, ONE_ETH, 0, f.trader.address),
      ).to.be.revertedWithCustomError(f.eth, "ERC20InsufficientAllowance");
    });
  });

  describe("administration", function () {
    it("lets the owner change the fee, up to the maximum", async function () {
      await expect(f.router.setFee(100)).to.emit(f.router, "FeeChanged").withArgs(FEE_BPS, 100);
      await expect(f.router.setFee(1001))
        .to.be.revertedWithCustomError(f.router, "FeeTooHigh")
        .withArgs(1001, 1000);
    });

    it("lets the owner move the fees elsewhere, never to the zero address", async function () {
      await expect(f.router.setFeeRecipient(f.other.address))
        .to.emit(f.router, "FeeRecipientChanged")
        .withArgs(f.feeRecipient.address, f.other.address);
      await expect(f.router.setFeeRecipient(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.router,
        "ZeroAddress",
      );
    });

    it("announces a route with its pool's tokens", async function () {
      const route = ethers.encodeBytes32String("again");
      await expect(f.router.setRoute(route, f.pool))
        .to.emit(f.router, "RouteSet")
        .withArgs(route, await f.pool.getAddress(), await f.pool.token0(), await f.pool.token1());
      await expect(f.router.setRoute(route, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.router,
        "ZeroAddress",
      );
    });

    it("refuses anyone but the owner", async function () {
      const stranger = f.router.connect(f.other);
      for (const call of [
        () => stranger.setFee(1),
        () => stranger.setFeeRecipient(f.other.address),
        () => stranger.setRoute(ROUTE, f.pool),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(f.router, "OwnableUnauthorizedAccount")
          .withArgs(f.other.address);
      }
    });
  });
});

describe("MinimalPool", function () {
  it("orders its tokens and refuses a pair of one token", async function () {
    const f = await deployRouter();
    const [a, b] = [await f.eth.getAddress(), await f.usd.getAddress()].sort((x, y) =>
      BigInt(x) < BigInt(y) ? -1 : 1,
    );
    expect([await f.pool.token0(), await f.pool.token1()]).to.deep.equal([a, b]);
    const Pool = await ethers.getContractFactory("MinimalPool");
    await expect(Pool.deploy(f.eth, f.eth)).to.be.revertedWithCustomError(Pool, "IdenticalTokens");
  });

  it("refuses to quote without liquidity, and liquidity of zero", async function () {
    const f = await deployRouter();
    const empty = await ethers.deployContract("MinimalPool", [f.eth, f.usd]);
    await expect(empty.quote(f.eth, ONE_ETH)).to.be.revertedWithCustomError(empty, "NoLiquidity");
    await expect(empty.addLiquidity(0, 1)).to.be.revertedWithCustomError(empty, "ZeroAmount");
    await expect(empty.otherToken(f.other.address))
      .to.be.revertedWithCustomError(empty, "NotInPool")
      .withArgs(f.other.address);
  });
});

describe("TestToken", function () {
  it("has its own decimals and only its owner mints", async function () {
    const f = await deployRouter();
    expect(await f.usd.decimals()).to.equal(6n);
    expect(await f.eth.decimals()).to.equal(18n);
    await expect(f.usd.connect(f.other).mint(f.other.address, 1))
      .to.be.revertedWithCustomError(f.usd, "OwnableUnauthorizedAccount")
      .withArgs(f.other.address);
  });
});
