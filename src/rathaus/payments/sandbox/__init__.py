"""Sandbox ePayment provider (XBezahldienste); run ``python -m rathaus.payments.sandbox``."""
