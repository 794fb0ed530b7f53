import numpy as np
import pytest

from tasks.arc.augment import stack_grids
from tasks.arc.encoding import colours_of, crop_sizes, render
from tasks.arc.transforms import (
    NUM_DIHEDRAL,
    identity_colour_map,
    inverse_colour_maps,
    inverse_dihedral,
    random_colour_maps,
)

CANVAS = 12


def reference_dihedral(grid: np.ndarray, transform: int) -> np.ndarray:
    """The reference builder's definition of transform ids 0..7."""
    return [lambda g: g, np.rot90, lambda g: np.rot90(g, 2), lambda g: np.rot90(g, 3), np.fliplr, np.flipud,
            np.transpose, lambda g: np.fliplr(np.rot90(g))][transform](grid)


def rendered_grids(grids: list[np.ndarray], transforms, maps=None) -> list[np.ndarray]:
    """render() then read each grid back from its canvas."""
    stacked, heights, widths = stack_grids(grids, CANVAS)
    maps = identity_colour_map(len(grids)) if maps is None else maps
    tokens = render(stacked, heights, widths, np.asarray(transforms), maps).reshape(-1, CANVAS, CANVAS)
    h, w = crop_sizes(tokens)
    return [colours_of(t[:a, :b]) for t, a, b in zip(tokens, h, w, strict=True)]


@pytest.fixture
def grids():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 10, (h, w)).astype(np.uint8) for h, w in [(1, 1), (1, 5), (4, 1), (3, 7), (12, 9)]]


def test_render_applies_each_dihedral_transform_as_the_reference_defines_it(grids):
    for t in range(NUM_DIHEDRAL):
        for grid, out in zip(grids, rendered_grids(grids, [t] * len(grids)), strict=True):
            np.testing.assert_array_equal(out, reference_dihedral(grid, t))


def test_every_dihedral_transform_composed_with_its_inverse_is_the_identity(grids):
    for t in range(NUM_DIHEDRAL):
        once = rendered_grids(grids, [t] * len(grids))
        back = rendered_grids(once, [int(inverse_dihedral(t))] * len(grids))
        for grid, out in zip(grids, back, strict=True):
            np.testing.assert_array_equal(out, grid)


def test_random_colour_maps_fix_0_and_permute_1_to_9():
    maps = random_colour_maps(np.random.default_rng(1), 200)
    assert np.all(maps[:, 0] == 0)
    np.testing.assert_array_equal(np.sort(maps, axis=1), identity_colour_map(200))
    assert len({m.tobytes() for m in maps}) > 190


def test_colour_permutation_composed_with_its_inverse_is_the_identity(grids):
    maps = random_colour_maps(np.random.default_rng(2), len(grids))
    inverse = inverse_colour_maps(maps)
    np.testing.assert_array_equal(np.take_along_axis(inverse, maps, axis=1), identity_colour_map(len(grids)))
    recoloured = rendered_grids(grids, [0] * len(grids), maps)
    for grid, once, m in zip(grids, recoloured, maps, strict=True):
        np.testing.assert_array_equal(once, m[grid])
    for grid, back in zip(grids, rendered_grids(recoloured, [0] * len(grids), inverse), strict=True):
        np.testing.assert_array_equal(back, grid)
