"""The member page reads its wallet and ledger rows as records (db/sql/page.py), not model
instances: every column of the model, each value as the model gives it (timestamps, flags and
JSON documents converted from JSON on both dialects)."""

from __future__ import annotations

from dataclasses import fields

from db.models import Coupon, CouponTemplate, PointTransaction
from db.sql.page import CouponRecord, PageReader, TemplateRecord, TransactionRecord
from tests.graphql.test_member_page_round_trips import a_full_member


def columns(model: type) -> set[str]:
    return set(model._meta.fields_db_projection.values())


def test_a_record_has_every_column_of_its_model():
    assert {f.name for f in fields(CouponRecord)} - {"template"} == columns(Coupon)
    assert {f.name for f in fields(TemplateRecord)} == columns(CouponTemplate)
    assert {f.name for f in fields(TransactionRecord)} == columns(PointTransaction)


def same_columns(record: object, row: object, model: type) -> None:
    for column in columns(model):
        mine, theirs = getattr(record, column), getattr(row, column)
        assert mine == theirs and type(mine) is type(theirs), (column, mine, theirs)


async def test_records_hold_what_the_models_hold(programme, make_member):
    # given a member with coupons (a template's lists, flags and timestamps) and ledger rows
    member = await a_full_member(programme, make_member)
    template = await CouponTemplate.get(
        id=(await Coupon.filter(member_id=member.id).first()).template_id
    )
    template.eligible_categories = ["coffee", "books"]
    template.stackable = True
    await template.save(update_fields=["eligible_categories", "stackable"])
    # when the page reader reads them
    reader = PageReader()
    wallet = await reader.wallet(member.id, 50)
    history = await reader.history(programme.id, member.id, 50)
    # then each record is its model row, column by column, in the page's order
    coupons = await Coupon.filter(member_id=member.id).order_by("ends_at", "id")
    assert [c.id for c in wallet] == [c.id for c in coupons] and len(wallet) == 2
    for record, row in zip(wallet, coupons, strict=True):
        same_columns(record, row, Coupon)
        same_columns(record.template, await CouponTemplate.get(id=row.template_id), CouponTemplate)
    rows = await PointTransaction.filter(member_id=member.id).order_by("-id")
    assert [t.id for t in history] == [t.id for t in rows] and len(history) >= 2
    for record, row in zip(history, rows, strict=True):
        same_columns(record, row, PointTransaction)
