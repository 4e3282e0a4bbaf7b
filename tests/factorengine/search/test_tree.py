"""Tree: reward normalization, UCT, backpropagation, progressive widening, selection, determinism, best paths."""
import math

import numpy as np
import pytest

from factorengine.search.tree import ROOT, NodeRecord, Tree, normalize_reward, uct, widening_limit


def _ok(node_id, parent_id, reward=0.5, score=0.1):
    return NodeRecord(node_id, parent_id, reward, False, score)


def _failed(node_id, parent_id):
    return NodeRecord(node_id, parent_id, 0.0, True, math.nan)


def _tree(*records, **params):
    return Tree.from_records(records, **params)


def _grow(seed, n_nodes, fail_share=0.2, **params):
    """Run select -> add with rewards and failures drawn from a separate stream; return tree and choices."""
    tree, select_rng, outcome_rng = Tree(**params), np.random.default_rng(seed), np.random.default_rng(seed + 1)
    choices = []
    for node_id in range(1, n_nodes + 1):
        parent = tree.select(select_rng)
        choices.append(parent)
        if outcome_rng.random() < fail_share:
            tree.add(_failed(node_id, parent))
        else:
            fs = float(outcome_rng.uniform(0.0, 0.2))
            tree.add(NodeRecord(node_id, parent, normalize_reward(fs), False, fs))
    return tree, choices


def test_normalize_reward_values():
    assert normalize_reward(0.1) == pytest.approx(0.6321205588)
    assert normalize_reward(0.2) == pytest.approx(0.8646647168)
    assert normalize_reward(0.05) == pytest.approx(0.3934693403)
    assert normalize_reward(0.1, scale=0.05) == pytest.approx(0.8646647168)
    assert normalize_reward(0.0) == normalize_reward(-0.3) == normalize_reward(math.nan) == 0.0
    assert normalize_reward(math.inf) == 1.0


def test_normalize_reward_refuses_non_positive_scale():
    with pytest.raises(ValueError, match="scale"):
        normalize_reward(0.1, scale=0.0)


def test_uct_values():
    assert uct(0.5, 2, 8, math.sqrt(2)) == pytest.approx(1.9420268866)  # 0.5 + sqrt(ln 8)
    assert uct(0.25, 4, 16, 1.0) == pytest.approx(1.0825546112)  # 0.25 + sqrt(ln 16 / 4)
    assert uct(0.3, 1, 1, 2.0) == pytest.approx(0.3)  # ln 1 = 0: no exploration bonus
    assert uct(0.7, 3, 10, 0.0) == 0.7
    assert uct(0.0, 0, 5, 1.0) == math.inf


def test_widening_limit_grows_with_square_root_of_visits():
    assert [widening_limit(n, 1.0, 0.5) for n in [0, 1, 3, 4, 8, 9, 15, 16, 25]] == [1, 1, 1, 2, 2, 3, 3, 4, 5]
    assert [widening_limit(n, 2.0, 0.5) for n in [0, 1, 4]] == [1, 2, 4]
    assert widening_limit(100, 1.0, 0.0) == 1


def test_add_backpropagates_visits_and_mean_reward_to_the_root():
    tree = _tree(_ok(1, 0, 0.5), _ok(2, 0, 0.25), _ok(3, 1, 1.0), _failed(4, 3))
    assert [tree.visits(n) for n in [0, 1, 2, 3, 4]] == [4, 3, 1, 2, 1]
    assert [tree.q(n) for n in [0, 1, 2, 3, 4]] == [0.4375, 0.5, 0.25, 0.5, 0.0]


def test_tree_structure_accessors():
    tree = _tree(_ok(1, 0), _ok(2, 0), _ok(3, 1), _failed(4, 3))
    assert tree.children(ROOT) == [1, 2] and tree.children(3) == [4] and tree.children(4) == []
    assert tree.path(4) == [1, 3, 4] and tree.path(2) == [2] and tree.path(ROOT) == []
    assert [tree.depth(n) for n in [0, 1, 3, 4]] == [0, 1, 2, 3]
    assert len(tree) == 4 and [r.node_id for r in tree.records] == [1, 2, 3, 4]
    assert tree.record(4).failed and 4 in tree and ROOT in tree and 5 not in tree


def test_empty_tree_selects_the_root():
    tree = Tree()
    assert tree.visits(ROOT) == 0 and math.isnan(tree.q(ROOT))
    assert tree.select(np.random.default_rng(0)) == ROOT


@pytest.mark.parametrize("record, reason", [
    (_ok(1, 0), "already in the tree"),
    (_ok(0, 0), "not positive"),
    (_ok(9, 7), "unknown parent"),
    (_ok(9, 2), "failed and cannot be expanded"),
    (_ok(9, 1, reward=1.5), "reward"),
    (NodeRecord(9, 1, 0.3, True, math.nan), "reward"),
])
def test_add_refuses_broken_invariants(record, reason):
    tree = _tree(_ok(1, 0), _failed(2, 0))
    with pytest.raises(ValueError, match=reason):
        tree.add(record)
    assert len(tree) == 2 and tree.visits(ROOT) == 2


def test_select_sequence_follows_progressive_widening():
    # Equal rewards. The root takes a new child at N = 0, 4, 9 (limits 1, 2, 3); a node with N < 4 holds one
    # child, so the first seed grows a chain 1-2-3-4 until the root may widen to seed 5. At N(root) = 8 the
    # seeds 1 and 5 tie (N = 4, Q = 0.5) and the rng picks 5; node 5 (N = 4) then takes its second child.
    tree, rng, choices = Tree(), np.random.default_rng(0), []
    for node_id in range(1, 17):
        choices.append(tree.select(rng))
        tree.add(_ok(node_id, choices[-1]))
    assert choices == [0, 1, 2, 3, 0, 5, 6, 7, 5, 0, 10, 11, 12, 10, 1, 9]
    assert tree.children(ROOT) == [1, 5, 10] and tree.children(5) == [6, 9]


def test_select_expands_the_root_up_to_its_widening_limit():
    chain = [_ok(1, 0), _ok(2, 1), _ok(3, 2)]
    assert _tree(*chain).select(np.random.default_rng(0)) == 3  # N(root) = 3: one child allowed
    assert _tree(*chain, _ok(4, 3)).select(np.random.default_rng(0)) == ROOT  # N = 4: a second child


def test_select_prefers_the_higher_q_child_at_equal_visits():
    tree = _tree(_ok(1, 0, reward=0.1), _ok(2, 0, reward=0.9))
    assert tree.select(np.random.default_rng(0)) == 2


def test_select_explores_a_low_visit_child_when_the_bonus_dominates():
    # Seed 1 has Q 0.6 over 7 nodes, seed 2 Q 0.4 over 1; N(root) = 8 allows 2 children, so the root descends.
    chain = [_ok(1, 0, 0.6), _ok(2, 0, 0.4)] + [_ok(i, i - 1 if i > 3 else 1, 0.6) for i in range(3, 9)]
    assert _tree(*chain).select(np.random.default_rng(0)) == 2  # UCT 2.44 against 1.37
    assert _tree(*chain, c=0.0).select(np.random.default_rng(0)) == 1  # greedy: Q 0.6; 1 has 1 of 2 children


def test_select_breaks_ties_with_the_rng_reproducibly():
    tree = _tree(_ok(1, 0), _ok(2, 0))
    picks = [tree.select(np.random.default_rng(seed)) for seed in range(20)]
    assert set(picks) == {1, 2}
    assert picks == [tree.select(np.random.default_rng(seed)) for seed in range(20)]


def test_select_never_enters_a_failed_child_even_with_a_higher_uct():
    # Failed 2 has N = 1 against N = 4 for 1: its UCT is higher (1.79 against 1.10), yet selection goes to 1,
    # which expands (N = 4 allows a second child).
    tree = _tree(_ok(1, 0, 0.2), _failed(2, 0), _ok(3, 1, 0.2), _ok(4, 3, 0.2), _ok(5, 4, 0.2))
    assert uct(tree.q(2), 1, 5, tree.c) > uct(tree.q(1), 4, 5, tree.c)
    assert tree.select(np.random.default_rng(0)) == 1


def test_select_expands_a_node_whose_children_all_failed():
    assert _tree(_failed(1, 0), _failed(2, 0), _failed(3, 0)).select(np.random.default_rng(0)) == ROOT
    tree = _tree(_ok(1, 0), _failed(2, 1), _failed(3, 1))
    assert tree.q(1) == pytest.approx(0.5 / 3)
    assert tree.select(np.random.default_rng(0)) == 1


def test_select_never_returns_or_passes_a_failed_node_in_a_long_run():
    tree, choices = _grow(seed=3, n_nodes=300, fail_share=0.3)
    assert sum(r.failed for r in tree.records) > 50
    assert not any(tree.record(n).failed for choice in choices for n in tree.path(choice))
    assert tree.visits(ROOT) == 300
    assert tree.q(ROOT) == pytest.approx(np.mean([r.reward for r in tree.records]))


def test_same_adds_and_seed_give_the_same_tree_and_choices():
    first, first_choices = _grow(seed=11, n_nodes=200)
    second, second_choices = _grow(seed=11, n_nodes=200)
    assert first_choices == second_choices and first.records == second.records
    assert _grow(seed=12, n_nodes=200)[1] != first_choices


def test_rebuilding_from_records_in_node_id_order_reproduces_the_state():
    tree, _ = _grow(seed=5, n_nodes=150)
    rebuilt = Tree.from_records(sorted(tree.records, key=lambda r: r.node_id))
    ids = [ROOT] + [r.node_id for r in tree.records]
    assert [(rebuilt.visits(n), rebuilt.q(n), rebuilt.children(n)) for n in ids] == \
        [(tree.visits(n), tree.q(n), tree.children(n)) for n in ids]
    picks = [tree.select(np.random.default_rng(seed)) for seed in range(10)]
    assert picks == [rebuilt.select(np.random.default_rng(seed)) for seed in range(10)]
    assert tree.best_paths(picks[0]) == rebuilt.best_paths(picks[0])


def _experience_tree():
    """root -> 1 (0.10) -> 3 (0.20) -> 5 (0.30); 1 -> 4 (0.05); root -> 2 (0.12) -> 6 (0.14); 2 -> 7 failed."""
    return _tree(_ok(1, 0, score=0.10), _ok(2, 0, score=0.12), _ok(3, 1, score=0.20), _ok(4, 1, score=0.05),
                 _ok(5, 3, score=0.30), _ok(6, 2, score=0.14), _failed(7, 2))


def test_best_paths_ranks_by_mean_score_without_a_current_chain():
    # Scores against R = {}: [1,3,5] 0.2 first; then against {1,3,5}: [2,6] 0.13 beats [1,4] 0.075 - 0.417;
    # then [1,4] -0.275 beats [2] (covered). Prefixes of chosen paths add nothing and are never returned.
    assert _experience_tree().best_paths(ROOT) == [[1, 3, 5], [2, 6], [1, 4]]


def test_best_paths_penalizes_overlap_with_the_current_chain():
    tree = _experience_tree()
    # Current chain [1,4]: [1,3,5] scores 0.2 - 0.5 * 1/3 - 0.5 * 1/2 = -0.217, below [2,6] at 0.13.
    assert tree.best_paths(4, k=1) == [[2, 6]]
    assert tree.best_paths(4, k=1, alpha=0.0, beta=0.0) == [[1, 3, 5]]
    # Current chain [1,3,5]: after [2,6] only [1,4] adds a node; [1], [1,3], [2] are covered by R.
    assert tree.best_paths(5) == [[2, 6], [1, 4]]


def test_best_paths_spreads_across_branches():
    # [1,3] has mean 0.25; [1,4] (0.195) is second best alone, but shares seed 1 with the first pick:
    # 0.195 - 0.5 * 1/2 - 0.5 * 1/2 = -0.305 against [2] at 0.1.
    tree = _tree(_ok(1, 0, score=0.2), _ok(2, 0, score=0.1), _ok(3, 1, score=0.3), _ok(4, 1, score=0.19))
    assert tree.best_paths(ROOT, k=2) == [[1, 3], [2]]
    assert tree.best_paths(ROOT, k=2, alpha=0.0, beta=0.0) == [[1, 3], [1, 4]]


def test_best_paths_break_ties_by_node_id_and_skip_failures():
    tree = _tree(_ok(5, 0, score=0.1), _ok(3, 0, score=0.1), _failed(8, 0), _ok(9, 5, score=math.nan))
    # [5, 9] has mean 0.1 (NaN skipped) but shares 5 with the first pick; the failed seed 8 is never a path.
    assert tree.best_paths(ROOT, k=5) == [[3], [5], [5, 9]]
    assert tree.best_paths(ROOT, k=0) == [] and Tree().best_paths(ROOT) == []
