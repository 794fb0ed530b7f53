"""Training sampler (reference group semantics) and sequential padded test sampler."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.base import TaskError
from tasks.dataset import IGNORE_LABEL_ID, assemble, from_arrays, test_batches, train_batches


def _grouped(groups=12, members=3, examples=1, seq_len=3):
    """Group g, member m, example e has inputs [g + 1, m + 1, e + 1] so a row names where it came from."""
    return assemble(
        [[(np.array([[g + 1, m + 1, e + 1] for e in range(examples)]),
           np.array([[g + 1, m + 1, e + 1] for e in range(examples)]), 0)
          for m in range(members)] for g in range(groups)],
        vocab_size=groups + members + examples + 1, seq_len=seq_len,
    )


def _epoch(dataset, batch_size, seed=0, epoch=0):
    return list(train_batches(dataset, batch_size, seed, epoch))


def test_each_epoch_visits_every_group_once_with_one_member():
    batches = _epoch(_grouped(groups=12, members=3), batch_size=4)
    rows = np.concatenate([b["inputs"] for b in batches])
    assert sorted(rows[:, 0].tolist()) == list(range(1, 13))  # every group exactly once
    assert set(rows[:, 1].tolist()) <= {1, 2, 3}


def test_batches_are_full_and_the_last_partial_batch_is_dropped():
    batches = _epoch(_grouped(groups=10), batch_size=4)
    assert len(batches) == 2
    assert all(b["inputs"].shape == (4, 3) and b["puzzle_identifiers"].shape == (4,) for b in batches)


def test_same_seed_and_epoch_give_the_same_order_and_other_epochs_differ():
    dataset = _grouped(groups=40)
    first = np.concatenate([b["inputs"] for b in _epoch(dataset, 8, seed=3, epoch=1)])
    again = np.concatenate([b["inputs"] for b in _epoch(dataset, 8, seed=3, epoch=1)])
    other = np.concatenate([b["inputs"] for b in _epoch(dataset, 8, seed=3, epoch=2)])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_members_of_a_group_are_all_drawn_over_epochs():
    dataset = _grouped(groups=4, members=3)
    members = {int(row[1]) for epoch in range(30) for b in _epoch(dataset, 4, epoch=epoch) for row in b["inputs"]}
    assert members == {1, 2, 3}


def test_a_puzzle_contributes_all_its_examples_and_one_that_overflows_is_truncated():
    dataset = _grouped(groups=4, members=1, examples=3)
    batches = _epoch(dataset, batch_size=4)
    assert len(batches) == 2  # 3 + 1 (truncated, its other 2 dropped), twice
    for batch in batches:
        groups, counts = np.unique(batch["inputs"][:, 0], return_counts=True)
        assert counts.sum() == 4 and counts.max() <= 3
        for g in groups:  # no example twice
            rows = batch["inputs"][batch["inputs"][:, 0] == g]
            assert len(np.unique(rows, axis=0)) == len(rows)
    first_groups = set(batches[0]["inputs"][:, 0].tolist())
    second_groups = set(batches[1]["inputs"][:, 0].tolist())
    assert first_groups.isdisjoint(second_groups)  # a truncated puzzle's other examples are dropped


def test_labels_equal_to_ignore_label_id_become_minus_100_and_arrays_are_int64():
    dataset = from_arrays(np.array([[1, 2], [3, 4]]), np.array([[0, 2], [3, 0]]), vocab_size=5)
    batch = _epoch(dataset, batch_size=2)[0]
    assert all(v.dtype == np.int64 for v in batch.values())
    assert sorted(map(tuple, batch["labels"].tolist())) == [(IGNORE_LABEL_ID, 2), (3, IGNORE_LABEL_ID)]


def test_test_batches_cover_every_example_once_in_order_with_the_last_padded():
    dataset = assemble([[(np.arange(1, 7).reshape(3, 2), np.arange(1, 7).reshape(3, 2), 1)],
                        [(np.array([[7, 8], [9, 9]]), np.array([[7, 8], [9, 9]]), 2)]],
                       vocab_size=10, seq_len=2, num_puzzle_identifiers=3)
    batches = list(test_batches(dataset, batch_size=2))
    assert [real for _, real in batches] == [2, 2, 1]
    rows = np.concatenate([b["inputs"][:real] for b, real in batches])
    np.testing.assert_array_equal(rows, dataset.inputs)
    identifiers = np.concatenate([b["puzzle_identifiers"][:real] for b, real in batches])
    assert identifiers.tolist() == [1, 1, 1, 2, 2]
    last, _ = batches[-1]
    assert last["inputs"][1].tolist() == [0, 0]
    assert last["labels"][1].tolist() == [IGNORE_LABEL_ID, IGNORE_LABEL_ID]
    assert last["puzzle_identifiers"][1] == 0


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 5])
def test_the_parts_of_the_test_batches_are_contiguous_runs_that_join_to_every_batch(parts):
    """One rank's share under data parallelism: 3 batches over `parts` ranks (some get none when parts > 3)."""
    dataset = assemble([[(np.arange(1, 11).reshape(5, 2), np.arange(1, 11).reshape(5, 2), 1)]],
                       vocab_size=12, seq_len=2, num_puzzle_identifiers=2)
    whole = list(test_batches(dataset, batch_size=2))
    shares = [list(test_batches(dataset, batch_size=2, part=(index, parts))) for index in range(parts)]
    joined = [batch for share in shares for batch in share]
    assert [real for _, real in joined] == [real for _, real in whole] == [2, 2, 1]
    for (mine, _), (theirs, _) in zip(joined, whole, strict=True):
        assert all(np.array_equal(mine[key], theirs[key]) for key in theirs)
    assert [len(share) for share in shares][:2] == ([3] if parts == 1 else [2, 1] if parts == 2 else [1, 1])


@pytest.mark.parametrize("part", [(2, 2), (-1, 2), (0, 0)])
def test_a_part_outside_its_parts_is_a_task_error(part):
    with pytest.raises(TaskError, match="part must be"):
        list(test_batches(_grouped(), 2, part=part))


@pytest.mark.parametrize("sampler", [lambda d: list(train_batches(d, 0, 0, 0)), lambda d: list(test_batches(d, 0))])
def test_a_batch_size_below_one_is_a_task_error(sampler):
    with pytest.raises(TaskError, match="batch_size"):
        sampler(_grouped())
