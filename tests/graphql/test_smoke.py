from domain.auth import Role

MEMBER_PAGE = """
query ($externalId: String!) {
  member(externalId: $externalId) { __typename externalId displayName tier { code benefits { code } } }
}
"""


async def test_member_page_through_the_app(gql, programme, make_member, make_key):
    # given
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    # when
    body = await gql(MEMBER_PAGE, {"externalId": member.external_id}, auth=key)
    # then
    assert body["data"]["member"]["externalId"] == member.external_id
    assert body["data"]["member"]["tier"]["code"] == "BRONZE"
