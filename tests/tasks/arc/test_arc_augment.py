import numpy as np
from arc_fixtures import write_tasks

from tasks.arc.augment import augmentation_name, parse_augmentation_name, plan_augmentations
from tasks.arc.data import ARCTaskData, load_directory


def one_colour_task() -> ARCTaskData:
    grid = np.array([[1]], dtype=np.uint8)
    return ARCTaskData("dot", "training", [(grid, grid)], [(grid, grid)])


def test_the_original_comes_first_then_distinct_augmentations(tmp_path):
    task = load_directory(write_tasks(tmp_path)).tasks[0]
    transforms, maps = plan_augmentations(task, count=40, seed=0, retries=5)
    assert len(transforms) == 41
    assert transforms[0] == 0 and maps[0].tolist() == list(range(10))
    assert len({(int(t), m.tobytes()) for t, m in zip(transforms, maps, strict=True)}) == 41
    assert np.all(maps[:, 0] == 0)


def test_augmentations_are_deduplicated_by_content():
    # A 1x1 grid of colour 1: transforms change nothing and only 9 recolourings exist.
    transforms, maps = plan_augmentations(one_colour_task(), count=20, seed=0, retries=5)
    assert len(transforms) == 9
    assert sorted(maps[:, 1].tolist()) == list(range(1, 10))


def test_augmentations_depend_only_on_seed_and_task(tmp_path):
    task = load_directory(write_tasks(tmp_path)).tasks[1]
    first = plan_augmentations(task, 10, seed=3, retries=5)
    again = plan_augmentations(task, 10, seed=3, retries=5)
    other = plan_augmentations(task, 10, seed=4, retries=5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])


def test_zero_augmentations_keeps_only_the_original(tmp_path):
    task = load_directory(write_tasks(tmp_path)).tasks[0]
    transforms, maps = plan_augmentations(task, 0, seed=0, retries=5)
    assert transforms.tolist() == [0] and maps.tolist() == [list(range(10))]


def test_identifier_names_follow_the_reference_style():
    assert augmentation_name("abc", 0, np.arange(10)) == "abc"
    assert augmentation_name("abc", 3, np.array([0, 9, 8, 7, 6, 5, 4, 3, 2, 1])) == "abc_t3_0987654321"


def test_identifier_names_parse_back_to_task_transform_and_colours():
    colours = np.array([0, 9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=np.uint8)
    task, transform, parsed = parse_augmentation_name(augmentation_name("ab_t9_c", 3, colours))
    assert (task, transform) == ("ab_t9_c", 3) and parsed.tolist() == colours.tolist()
    task, transform, parsed = parse_augmentation_name("ab_t9_c")
    assert (task, transform, parsed.tolist()) == ("ab_t9_c", 0, list(range(10)))
