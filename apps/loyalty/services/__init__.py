"""Writes of loyalty, one module per topic: ``wallets`` (stored value), ``cards``, ``points``, ``tiers``,
``courses``, ``coupons``, ``referrals``, ``settings``; ``_common`` holds the shared checks and the
redemption-safety rule. Import the topic module you need."""
