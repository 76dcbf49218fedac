// The upgrade path: V1 -> V2 keeps every piece of state and passes the storage-layout check;
// a layout-breaking V2, a non-UUPS implementation and a stranger's upgrade are all refused.
const { expect } = require("chai");
const { ethers, upgrades } = require("hardhat");

const { FEE_BPS, ROUTE, deployRouter, fund } = require("./fixtures");

const ONE_ETH = ethers.parseUnits("1", 18);

describe("FeeRouter upgrades", function () {
  let f;

  beforeEach(async function () {
    f = await deployRouter();
    await fund(f, f.eth, ONE_ETH);
    await f.router.connect(f.trader).swap(ROUTE, f.eth, ONE_ETH, 0, f.trader.address);
  });

  it("passes the storage-layout check from V1 to V2", async function () {
    const V2 = await ethers.getContractFactory("FeeRouterV2");
    await upgrades.validateUpgrade(f.FeeRouter, V2, { kind: "uups" });
    await upgrades.validateUpgrade(f.router, V2, { kind: "uups" });
  });

  it("upgrades V1 to V2 in place, keeping its state and address", async function () {
    const proxy = await f.router.getAddress();
    const before = {
      owner: await f.router.owner(),
      feeRecipient: await f.router.feeRecipient(),
      feeBps: await f.router.feeBps(),
      pool: await f.router.poolOf(ROUTE),
      fees: await f.router.feesCollected(f.eth),
      implementation: await upgrades.erc1967.getImplementationAddress(proxy),
    };
    expect(before.fees).to.be.greaterThan(0n);

    const V2 = await ethers.getContractFactory("FeeRouterV2");
    const upgraded = await upgrades.upgradeProxy(f.router, V2, { kind: "uups" });

    expect(await upgraded.getAddress()).to.equal(proxy);
    expect(await upgraded.version()).to.equal(2n);
    expect(await upgrades.erc1967.getImplementationAddress(proxy)).to.not.equal(
      before.implementation,
    );
    expect({
      owner: await upgraded.owner(),
      feeRecipient: await upgraded.feeRecipient(),
      feeBps: await upgraded.feeBps(),
      pool: await upgraded.poolOf(ROUTE),
      fees: await upgraded.feesCollected(f.eth),
      implementation: before.implementation,
    }).to.deep.equal(before);

    // The new feature works on the old state: a route's own fee, then the router's again.
    await upgraded.setRouteFee(ROUTE, 100);
    await fund(f, f.eth, ONE_ETH);
    await expect(upgraded.connect(f.trader).swap(ROUTE, f.eth, ONE_ETH, 0, f.trader.address))
      .to.emit(upgraded, "FeeCollected")
      .withArgs(f.trader.address, await f.eth.getAddress(), ONE_ETH / 100n, ROUTE);
    expect(await upgraded.feesCollected(f.eth)).to.equal(
      before.fees + ONE_ETH / 100n,
    );
    const [, otherRouteFee] = await upgraded.quote(ROUTE, f.eth, ONE_ETH);
    expect(otherRouteFee).to.equal(ONE_ETH / 100n);
    expect(await upgraded.feeBps()).to.equal(FEE_BPS);
  });

  it("refuses an upgrade that breaks the storage layout", async function () {
    const Broken = await ethers.getContractFactory("FeeRouterV2Broken");
    await expect(upgrades.validateUpgrade(f.FeeRouter, Broken, { kind: "uups" })).to.be.rejectedWith(
      /New storage layout is incompatible[\s\S]*Inserted `feeRecipient`/,
    );
    await expect(upgrades.upgradeProxy(f.router, Broken, { kind: "uups" })).to.be.rejectedWith(
      /New storage layout is incompatible/,
    );
    expect(await f.router.version()).to.equal(1n);
  });

  it("is refused on chain when the new implementation is not UUPS", async function () {
    // The proxy asks the new implementation for its proxiableUUID: a pool has none.
    await expect(f.router.upgradeToAndCall(await f.pool.getAddress(), "0x"))
      .to.be.revertedWithCustomError(f.router, "ERC1967InvalidImplementation")
      .withArgs(await f.pool.getAddress());
  });

  it("is refused on chain for anyone but the owner", async function () {
    const V2 = await ethers.getContractFactory("FeeRouterV2");
    const implementation = await V2.deploy();
    await expect(f.router.connect(f.other).upgradeToAndCall(implementation, "0x"))
      .to.be.revertedWithCustomError(f.router, "OwnableUnauthorizedAccount")
      .withArgs(f.other.address);
    expect(await f.router.version()).to.equal(1n);
  });
});
