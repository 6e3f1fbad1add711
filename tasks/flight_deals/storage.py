"""S3 layout of flight-deals' batches bucket: rejected/<batch id>.json, the records Decode Batch
could not use with their reasons, and parked/<batch id>.json, the batches Park Batch keeps to be
replayed. Each function's grant reaches only its own prefix (workflows/flight_deals.py)."""

from __future__ import annotations

REJECTED_PREFIX = "rejected/"
PARKED_PREFIX = "parked/"
