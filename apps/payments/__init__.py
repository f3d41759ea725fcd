"""Payment gateways (POS-2): WeChat Pay and Alipay for the till, with each salon's own merchant account.

The till (apps.pos) sits above this app and calls its services; this app never imports the till. It
learns of a payment's outcome through the ``gateway_payment_settled`` signal (``apps.payments.signals``).
"""
