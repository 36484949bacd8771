"""The compiled `Principal` must give exactly Casbin's answers.

Casbin is asked the way the design uses it: once per ancestor domain of the target region
(a grant at a county is a ``g`` row in that county's domain, and reaches everything below).
"""

import casbin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jubao.authz.policy import Grant, catalogue_policies, new_model, subject
from jubao.authz.principal import Principal
from jubao.authz.roles import ROLES
from jubao.authz.vocabulary import Act, Obj
from jubao.tenants.codes import RegionCode

# A small universe so that generated grants and targets overlap often.
PREFIXES = ["41", "4101", "4102", "410121", "410122", "410221", "410121101", "410121201"]
TARGETS = [
    RegionCode(c)
    for c in (
        "410000000000",
        "410100000000",
        "410121000000",
        "410121101000",
        "410121101201",
        "410121201203",
        "410122101201",
        "410221101201",
        "420101001001",
    )
]

ROLE_POLICIES = [list(p) for p in sorted(catalogue_policies())]

grants = st.lists(
    st.tuples(st.sampled_from([r.name for r in ROLES]), st.sampled_from(PREFIXES)),
    max_size=6,
    unique=True,
)
requests = st.lists(
    st.tuples(st.sampled_from(list(Obj)), st.sampled_from(list(Act)), st.sampled_from(TARGETS)),
    min_size=1,
    max_size=25,
)


def casbin_allows(
    enforcer: casbin.Enforcer, user: str, obj: Obj, act: Act, region: RegionCode
) -> bool:
    return any(enforcer.enforce(user, domain, obj.value, act.value) for domain in region.prefixes)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grants=grants, requests=requests, other=grants)
def test_principal_agrees_with_casbin_enforce(
    grants: list[tuple[str, str]],
    requests: list[tuple[Obj, Act, RegionCode]],
    other: list[tuple[str, str]],
) -> None:
    enforcer = casbin.Enforcer(new_model())
    enforcer.add_policies(ROLE_POLICIES)
    enforcer.add_grouping_policies([[subject(1), role, prefix] for role, prefix in grants])
    # another user's grants must not leak into user 1's answers
    enforcer.add_grouping_policies([[subject(2), role, prefix] for role, prefix in other])
    principal = Principal(1, [Grant(i, 1, role, prefix) for i, (role, prefix) in enumerate(grants)])
    for obj, act, region in requests:
        expected = casbin_allows(enforcer, subject(1), obj, act, region)
        assert principal.can(obj, act, region) == expected, (grants, obj, act, region)
        assert principal.scope(obj, act).covers(region) == expected


def test_a_role_unknown_to_the_catalogue_grants_nothing() -> None:
    principal = Principal(1, [Grant(1, 1, "retired_role", "41")])
    assert not principal.can(Obj.PERSON, Act.READ, RegionCode("410121101201"))
    assert not principal.scope(Obj.PERSON, Act.READ)


def test_scope_is_minimal() -> None:
    principal = Principal(
        1,
        [
            Grant(1, 1, "auditor", "4101"),
            Grant(2, 1, "agency_reviewer", "410121"),
            Grant(3, 1, "agency_reviewer", "410221"),
        ],
    )
    assert principal.scope(Obj.PERSON, Act.READ).prefixes == {"4101", "410221"}
    assert principal.scope(Obj.ENROLLMENT, Act.REVIEW).prefixes == {"410121", "410221"}
    assert principal.scope(Obj.AUDIT, Act.READ).prefixes == {"4101"}
