from .bills import Bill, BillCoupon, BillDayCounter, BillKind, BillLine, BillLineStaff, BillStatus, LineKind
from .cash import CashMovement, CashMovementKind, CashSession, CashSessionStatus, CashSessionTally
from .commission import (
    CommissionEntry,
    CommissionEntryKind,
    CommissionMethod,
    CommissionRule,
    CommissionScope,
    CommissionTier,
)
from .expenses import Expense, ExpenseCategory, ExpenseKind
from .invoices import InvoiceRequest, InvoiceStatus, InvoiceType
from .receipts import EReceipt, EReceiptTrigger
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
    "CashMovement",
    "CashMovementKind",
    "CashSession",
    "CashSessionStatus",
    "CashSessionTally",
    "CommissionEntry",
    "CommissionEntryKind",
    "CommissionMethod",
    "CommissionRule",
    "CommissionScope",
    "CommissionTier",
    "EReceipt",
    "EReceiptTrigger",
    "Expense",
    "ExpenseCategory",
    "ExpenseKind",
    "InvoiceRequest",
    "InvoiceStatus",
    "InvoiceType",
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
