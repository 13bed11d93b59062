"""Redemptions off-chain: following and fulfilling them, and relaying gasless ones (relay.py:
the oracle submits a redemption its customer signed, or signs for a custodial customer, and
pays the gas)."""
