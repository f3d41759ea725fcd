from .bills import Bill, BillCoupon, BillDayCounter, BillKind, BillLine, BillLineStaff, BillStatus, LineKind
from .settings import PosSettings, ReceiptWidth
from .tenders import Refund, RefundLine, RefundStatus, RefundTender, Tender, TenderMethod, TenderStatus

__all__ = [
    "Bill",
    "BillCoupon",
    "BillDayCounter",
    "BillKind",
    "BillLine",
    "BillLineStaff",
    "BillStatus",
    "LineKind",
    "PosSettings",
    "ReceiptWidth",
    "Refund",
    "RefundLine",
    "RefundStatus",
    "RefundTender",
    "Tender",
    "TenderMethod",
    "TenderStatus",
]
