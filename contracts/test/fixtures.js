// One deployment for every test: two tokens, a pool with liquidity, the fee router behind a
// UUPS proxy (deployed by the upgrades plugin, which validates the implementation first).
const { ethers, upgrades } = require("hardhat");

const FEE_BPS = 30n;
const ROUTE = ethers.encodeBytes32String("tETH/tUSD");
const LIQUIDITY_ETH = ethers.parseUnits("1000", 18);
const LIQUIDITY_USD = ethers.parseUnits("3000000", 6);

async function deployTokens(owner) {
  const Token = await ethers.getContractFactory("TestToken");
  const eth = await Token.deploy("Impressox Test Ether", "tETH", 18, owner.address);
  const usd = await Token.deploy("Impressox Test USD", "tUSD", 6, owner.address);
  return { eth, usd };
}

async function deployRouter() {
  const [owner, feeRecipient, trader, other] = await ethers.getSigners();
  const { eth, usd } = await deployTokens(owner);
  const pool = await ethers.deployContract("MinimalPool", [eth, usd]);
  await eth.mint(owner.address, LIQUIDITY_ETH);
  await usd.mint(owner.address, LIQUIDITY_USD);
  await eth.approve(pool, LIQUIDITY_ETH);
  await usd.approve(pool, LIQUIDITY_USD);
  const [amount0, amount1] =
    (await pool.token0()) === (await eth.getAddress())
      ? [LIQUIDITY_ETH, LIQUIDITY_USD]
      : [LIQUIDITY_USD, LIQUIDITY_ETH];
  await pool.addLiquidity(amount0, amount1);

  const FeeRouter = await ethers.getContractFactory("FeeRouter");
  const router = await upgrades.deployProxy(
    FeeRouter,
    [owner.address, feeRecipient.address, FEE_BPS],
    { kind: "uups" },
  );
  await router.setRoute(ROUTE, pool);
  return { owner, feeRecipient, trader, other, eth, usd, pool, router, FeeRouter };
}

/** Mints `amount` of `token` to `trader` and approves the router to take it. */
async function fund(fixture, token, amount) {
  await token.mint(fixture.trader.address, amount);
  await token.connect(fixture.trader).approve(fixture.router, amount);
}

module.exports = { FEE_BPS, ROUTE, LIQUIDITY_ETH, LIQUIDITY_USD, deployRouter, deployTokens, fund };
