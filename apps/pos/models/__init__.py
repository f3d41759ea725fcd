from .bills import Bill, BillCoupon, BillDayCounter, BillKind, BillLine, BillLineStaff, BillStatus, LineKind
from .expenses import Expense, ExpenseCategory, ExpenseKind
from .invoices import InvoiceRequest, InvoiceStatus, InvoiceType
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
