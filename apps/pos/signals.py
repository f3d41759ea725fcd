"""What the till tells other parts of the product, so commission, stock, receipts and messages hook in
without the bill services knowing them. Both signals are sent inside the bill's transaction: a receiver
that writes rows commits or rolls back with the bill; one that leaves the database (a print, a message)
queues its work with ``transaction.on_commit``.

``bill_paid``: sent once per bill, when its succeeded tenders reach its total (``sender`` is ``Bill``).
    ``bill``: the paid Bill; ``lines``: its BillLines (``staff_shares`` loaded); ``tenders``: its
    succeeded Tenders; ``acting_user``: who took the last payment (None when a gateway settled it).

``bill_refunded``: sent once per refund (``sender`` is ``Refund``).
    ``bill``: the Bill after the refund; ``refund``: the Refund; ``lines``: its RefundLines (each with
    ``bill_line``, the quantity and the amount given back on it); ``tenders``: its RefundTenders;
    ``acting_user``: who issued it.
"""

from __future__ import annotations

from django.dispatch import Signal

bill_paid = Signal()
bill_refunded = Signal()
