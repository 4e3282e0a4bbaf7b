"""The run config: defaults, TOML round trip, unknown keys and wrong types refused with the key named."""
import pytest

from factorengine.config import (DEFAULTS_FILE, ConfigError, ModelRoute, RunConfig, config_from_dict, dump_config,
                                 load_config, override)


def test_shipped_defaults_file_equals_the_dumped_defaults():
    assert DEFAULTS_FILE.read_text() == dump_config(RunConfig())


def test_load_config_reads_the_defaults_file_back_to_the_defaults():
    assert load_config(DEFAULTS_FILE) == RunConfig()


def test_config_overrides_only_the_keys_given(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[search]\niterations = 12\nexploration = 1\n\n[evaluation]\nprobe = false\n")
    config = load_config(path)
    assert (config.search.iterations, config.search.exploration, config.evaluation.probe) == (12, 1.0, False)
    assert config.data == RunConfig().data


@pytest.mark.parametrize("document, message", [
    ({"serach": {}}, "unknown section [serach]; sections are data, search, evaluation, tuning, novelty, islands, llm, budget"),
    ({"search": {"iteratons": 3}}, "[search]: unknown key 'iteratons'; keys are iterations"),
    ({"search": {"iterations": 3.5}}, "[search]: iterations = 3.5 should be an int like 100"),
    ({"evaluation": {"probe": 1}}, "[evaluation]: probe = 1 should be a bool like True"),
    ({"search": {"proposer": "gpt"}}, "[search] proposer = 'gpt': choose one of mutate"),
    ({"tuning": {"n_parallel": 0}}, "[tuning] n_parallel = 0: must be 1 or more"),
    ({"tuning": {"n_trials": -1}}, "[tuning] n_trials = -1: must be 0 or more"),
    ({"islands": {"backend": "dask"}}, "[islands] backend = 'dask': choose one of multiprocess, ray"),
    ({"data": {"test_start": "2020-13-01"}}, "[data] test_start = '2020-13-01': not a date; write it as YYYY-MM-DD"),
    ({"data": {"valid_start": "20200101"}}, "[data] valid_start = '20200101': not a date; write it as YYYY-MM-DD"),
    ({"data": {"train_fraction": 1.0}}, "[data] train_fraction = 1.0: must be between 0 and 1 (exclusive)"),
    ({"data": {"train_fraction": 0.7, "valid_fraction": 0.3}},
     "[data] train_fraction = 0.7, valid_fraction = 0.3: their sum must be under 1 to leave days for test"),
    ({"data": {"folds": 0}}, "[data] folds = 0: must be 1 or more"),
    ({"data": {"min_coverage": 1.5}}, "[data] min_coverage = 1.5: must be between 0 and 1"),
    ({"llm": {"models": ["gpt-4.1"]}}, "[llm] models: 'gpt-4.1' should be a table with a name, like {name = "),
    ({"llm": {"models": [{"name": "a", "cost": 1}]}}, "[llm] models: a has unknown key(s) cost; known: name, "),
    ({"llm": {"models": [{"name": "a", "price": [1]}]}}, "price is [prompt, completion] USD per million tokens"),
    ({"llm": {"models": [{"name": "a"}, {"name": "a"}]}}, "[llm] models names a, a: each model may appear once"),
])
def test_config_refuses_unknown_keys_and_wrong_types_naming_them(document, message):
    with pytest.raises(ConfigError) as error:
        config_from_dict(document, "run.toml")
    assert message in str(error.value)


def test_config_names_every_unknown_section_and_key_in_one_error():
    document = {"serach": {}, "budjet": {}, "search": {"iteratons": 3, "seed_dir": "x"}, "tuning": {"trials": 4}}
    with pytest.raises(ConfigError) as error:
        config_from_dict(document, "run.toml")
    message = str(error.value)
    assert message.startswith("run.toml: unknown sections [budjet], [serach]; sections are data, search, ")
    assert "run.toml [search]: unknown keys 'iteratons', 'seed_dir'; keys are iterations, " in message
    assert "run.toml [tuning]: unknown key 'trials'; keys are " in message
    assert "\n" not in message


def test_load_config_names_the_file_of_broken_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[search\n")
    with pytest.raises(ConfigError, match="run.toml: cannot read the config"):
        load_config(path)


def test_override_replaces_given_fields_and_ignores_none():
    config = override(RunConfig(), "search", iterations=7, seed=None)
    assert config.search.iterations == 7 and config.search.seed == 0


def test_llm_routes_fill_each_model_from_the_llm_section():
    config = config_from_dict({"llm": {"base_url": "http://127.0.0.1:1/v1", "models": [
        {"name": "gpt-4.1"}, {"name": "local", "base_url": "http://127.0.0.1:2/v1", "api_key_env": "LOCAL",
                              "price": [0, 0]}]}}, "run.toml")
    assert config.llm.routes == (ModelRoute("gpt-4.1", "http://127.0.0.1:1/v1", "OPENAI_API_KEY", (2.0, 8.0)),
                                 ModelRoute("local", "http://127.0.0.1:2/v1", "LOCAL", (0, 0)))


def test_llm_routes_are_the_model_alone_by_default():
    assert RunConfig().llm.routes == (ModelRoute("gpt-4o-mini", "", "OPENAI_API_KEY", (0.15, 0.6)),)
