from datetime import UTC, datetime

from carecli.engine.audit import GENESIS_HASH, make_record, verify_chain


def _chain(n: int):
    recs, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        r = make_record(seq=i, at=datetime(2026, 11, 27, 15, i, tzinfo=UTC), actor="kim", role="agent",
                        order_ref=f"ON-{100000 + i}", version_before=1, version_after=2,
                        command=[{"kind": "cancel_order"}], reason_code="CUSTOMER_REQUEST", note="n",
                        financial_effect={"delta": {"amount": "-1.00", "currency": "USD"}},
                        idempotency_key=f"k{i}", prev_hash=prev)
        recs.append(r)
        prev = r.hash
    return recs


def test_intact_chain_verifies():
    assert verify_chain(_chain(5)) is None


def test_edited_record_is_found():
    recs = _chain(5)
    recs[2] = recs[2].model_copy(update={"note": "changed"})
    p = verify_chain(recs)
    assert p is not None and p.seq == 3 and "edited" in p.problem


def test_deleted_record_is_found():
    recs = _chain(5)
    del recs[1]
    p = verify_chain(recs)
    assert p is not None and p.seq == 2 and "deleted" in p.problem


def test_reordered_records_are_found():
    recs = _chain(5)
    recs[1], recs[2] = recs[2], recs[1]
    p = verify_chain(recs)
    assert p is not None and p.seq == 2


def test_resealed_edit_is_still_found_by_the_next_record():
    recs = _chain(4)
    forged = make_record(**{**recs[1].model_dump(exclude={"hash"}), "note": "forged"})
    recs[1] = forged
    p = verify_chain(recs)
    assert p is not None and p.seq == 3
