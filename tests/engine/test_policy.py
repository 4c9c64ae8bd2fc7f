import pytest

from carecli.engine.money import Money
from carecli.engine.policy import PolicyError, default_policy, load_policy


def test_default_policy_has_the_numbers_domain_names():
    p = default_policy()
    assert p.returns.window_days == 30 and p.rounding == "half_up"
    assert p.appeasement.limit("agent", "USD") == Money("50.00", "USD")
    assert p.appeasement.limit("supervisor", "USD") > p.appeasement.limit("agent", "USD")
    assert p.tax_for("US", "IL", "Chicago").rate == p.tax_for("US", "il", " chicago ").rate
    assert p.tax_for("US", "IL", "Springfield").name == "Illinois"  # falls back to the state
    assert p.tax_for("ZZ", "", "") is None
    assert {m.code for m in p.shipping_methods} >= {"STANDARD", "EXPRESS", "NEXT_DAY"}


def test_user_file_overrides_keys_and_keeps_the_rest(tmp_path):
    f = tmp_path / "policy.toml"
    f.write_text('[appeasement.limits.agent]\nUSD = "20.00"\n[returns]\nwindow_days = 14\n')
    p = load_policy(f)
    assert p.appeasement.limit("agent", "USD") == Money("20.00", "USD")
    assert p.appeasement.limit("agent", "AUD") == Money("75.00", "AUD")  # merged table keeps the rest
    assert p.returns.window_days == 14 and p.tax_for("US", "IL", "Chicago") is not None


@pytest.mark.parametrize("text,key,expected", [
    ('[returns]\nwindow_days = "thirty"\n', "returns.window_days", "valid integer"),
    ('[money]\nrounding = "up"\n', "money.rounding", "half_up"),
    ('[appeasement.limits.agent]\nUSD = 50\n', "appeasement.limits", "quoted decimal"),
    ('[[tax]]\ncountry = "US"\nrate = 0.1\nname = "x"\n', "tax[0 x].rate", "quoted decimal"),
    ('[returns]\nwindow_dayz = 3\n', "returns.window_dayz", "not permitted"),
    ("[returns\n", None, "not valid TOML"),
])
def test_malformed_policy_names_file_key_and_expectation(tmp_path, text, key, expected):
    f = tmp_path / "policy.toml"
    f.write_text(text)
    with pytest.raises(PolicyError) as e:
        load_policy(f)
    msg = str(e.value)
    assert str(f) in msg and expected in msg
    if key:
        assert f"key {key}" in msg


def test_missing_user_file_means_defaults(tmp_path):
    assert load_policy(tmp_path / "nope.toml") == default_policy()
