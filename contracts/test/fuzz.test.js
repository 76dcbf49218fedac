// Property-based (fuzz) tests with fast-check: random fees and random sequences of swaps in
// both directions, each checked against the router's and the pool's invariants. A failure
// prints the seed and the shrunk counterexample; rerun it with FC_SEED=<seed>.
const { expect } = require("chai");
const fc = require("fast-check");
const { ethers, network } = require("hardhat");

const { ROUTE, deployRouter, fund } = require("./fixtures");

const RUNS = Number(process.env.FC_RUNS ?? 40);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

const swapArb = fc.record({
  ethToUsd: fc.boolean(),
  // From dust (which the pool refuses) up to a tenth of the pool's reserve of that token.
  amount: fc.bigInt({ min: 1n, max: 10n ** 20n }),
});

describe("FeeRouter (fuzz)", function () {
  let f;
  let snapshot;

  before(async function () {
    f = await deployRouter();
  });

  beforeEach(async function () {
    snapshot = await network.provider.send("evm_snapshot");
  });

  afterEach(async function () {
    await network.provider.send("evm_revert", [snapshot]);
  });

  async function balances(token) {
    return {
      trader: await token.balanceOf(f.trader.address),
      feeRecipient: await token.balanceOf(f.feeRecipient.address),
      router: await token.balanceOf(f.router),
      pool: await token.balanceOf(f.pool),
    };
  }

  async function reserves() {
    return { r0: await f.pool.reserve0(), r1: await f.pool.reserve1() };
  }

  /** One swap and every invariant around it; returns the fee it paid. */
  async function swapAndCheck({ ethToUsd, amount }, feeBps) {
    const [tokenIn, tokenOut] = ethToUsd ? [f.eth, f.usd] : [f.usd, f.eth];
    const scaled = ethToUsd ? amount : amount / 10n ** 12n + 1n; // tUSD has 6 decimals
    await fund(f, tokenIn, scaled);
    const inBefore = await balances(tokenIn);
    const outBefore = await balances(tokenOut);
    const before = await reserves();
    const fee = (scaled * BigInt(feeBps)) / 10_000n;
    const expectedOut = await f.pool.quote(tokenIn, scaled - fee);

    const swap = f.router.connect(f.trader).swap(ROUTE, tokenIn, scaled, 0, f.trader.address);
    if (expectedOut === 0n) {
      await expect(swap).to.be.revertedWithCustomError(f.pool, "InsufficientOutput");
      expect(await balances(tokenIn)).to.deep.equal(inBefore);
      return 0n;
    }
    await expect(swap)
      .to.emit(f.router, "Swap")
      .withArgs(
        f.trader.address,
        f.trader.address,
        ROUTE,
        await tokenIn.getAddress(),
        await tokenOut.getAddress(),
        scaled,
        fee,
        expectedOut,
      );
    if (fee > 0n) {
      await expect(swap)
        .to.emit(f.router, "FeeCollected")
        .withArgs(f.trader.address, await tokenIn.getAddress(), fee, ROUTE);
    } else {
      await expect(swap).not.to.emit(f.router, "FeeCollected");
    }

    const inAfter = await balances(tokenIn);
    const outAfter = await balances(tokenOut);
    // Every unit the payer gave went to the fee recipient or the pool; the router kept none.
    expect(inBefore.trader - inAfter.trader).to.equal(scaled);
    expect(inAfter.feeRecipient - inBefore.feeRecipient).to.equal(fee);
    expect(inAfter.pool - inBefore.pool).to.equal(scaled - fee);
    expect(inAfter.router).to.equal(0n);
    expect(outAfter.trader - outBefore.trader).to.equal(expectedOut);
    expect(outBefore.pool - outAfter.pool).to.equal(expectedOut);
    // The product of the reserves never falls: rounding favours the pool.
    const after = await reserves();
    expect(after.r0 * after.r1 >= before.r0 * before.r1).to.equal(true);
    return fee;
  }

  it("keeps every unit accounted for over random swap sequences and fees", async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(swapArb, { minLength: 1, maxLength: 4 }),
        async (feeBps, swaps) => {
          const id = await network.provider.send("evm_snapshot");
          try {
            await f.router.setFee(feeBps);
            const collected = { eth: 0n, usd: 0n };
            const start = {
              eth: await f.router.feesCollected(f.eth),
              usd: await f.router.feesCollected(f.usd),
            };
            for (const swap of swaps) {
              const fee = await swapAndCheck(swap, feeBps);
              collected[swap.ethToUsd ? "eth" : "usd"] += fee;
            }
            expect((await f.router.feesCollected(f.eth)) - start.eth).to.equal(collected.eth);
            expect((await f.router.feesCollected(f.usd)) - start.usd).to.equal(collected.usd);
            const poolEth = await f.eth.balanceOf(f.pool);
            const poolUsd = await f.usd.balanceOf(f.pool);
            const { r0, r1 } = await reserves();
            const ethIs0 = (await f.pool.token0()) === (await f.eth.getAddress());
            expect(ethIs0 ? [r0, r1] : [r1, r0]).to.deep.equal([poolEth, poolUsd]);
          } finally {
            await network.provider.send("evm_revert", [id]);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("refuses every fee above the maximum and accepts every one up to it", async function () {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 65_535 }), async (feeBps) => {
        if (feeBps > 1000) {
          await expect(f.router.setFee(feeBps))
            .to.be.revertedWithCustomError(f.router, "FeeTooHigh")
            .withArgs(feeBps, 1000);
        } else {
          await f.router.setFee(feeBps);
          expect(await f.router.feeBps()).to.equal(BigInt(feeBps));
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
