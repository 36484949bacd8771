from tests.helpers import Api


async def test_login_and_me(api: Api) -> None:
    data = await api.as_("village.assistant", "{ me { user { username } grants { regionCode } } }")
    assert data["me"]["user"]["username"] == "village.assistant"
    assert data["me"]["grants"] == [{"regionCode": "410121101201"}]
