"""Persistence and cryptography: the store API and its SQLite and in-memory backends."""

from storage.crypto import InvalidMasterKey
from storage.interface import (
    AuditEntry,
    CacheEntry,
    ConsentGrant,
    ConsentRecord,
    DecryptionFailed,
    Delivery,
    Draft,
    ErasureReport,
    FeedbackRecord,
    KeyStoreMissing,
    MasterKeyMismatch,
    NewFeedback,
    PeriodFeedback,
    PurgeReport,
    SegmentRead,
    StatisticsRow,
    StorageFull,
    Store,
    StoreError,
    StoreNotOpen,
    SummarySegment,
    bucket_keys,
)
from storage.masterkey import resolve_master_key
from storage.memory import MemoryStore
from storage.sqlite import SQLiteStore

__all__ = [
    "AuditEntry",
    "CacheEntry",
    "ConsentGrant",
    "ConsentRecord",
    "DecryptionFailed",
    "Delivery",
    "Draft",
    "ErasureReport",
    "FeedbackRecord",
    "InvalidMasterKey",
    "KeyStoreMissing",
    "MasterKeyMismatch",
    "MemoryStore",
    "NewFeedback",
    "PeriodFeedback",
    "PurgeReport",
    "SQLiteStore",
    "SegmentRead",
    "StatisticsRow",
    "StorageFull",
    "Store",
    "StoreError",
    "StoreNotOpen",
    "SummarySegment",
    "bucket_keys",
    "resolve_master_key",
]
