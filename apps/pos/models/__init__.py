from .bills import Bill, BillCoupon, BillDayCounter, BillKind, BillLine, BillLineStaff, BillStatus, LineKind
from .commission import (
    CommissionEntry,
    CommissionEntryKind,
    CommissionMethod,
    CommissionRule,
    CommissionScope,
    CommissionTier,
)
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
    "CommissionEntry",
    "CommissionEntryKind",
    "CommissionMethod",
    "CommissionRule",
    "CommissionScope",
    "CommissionTier",
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
