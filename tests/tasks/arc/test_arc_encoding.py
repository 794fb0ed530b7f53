import numpy as np
import pytest

from tasks.arc.augment import stack_grids
from tasks.arc.encoding import EOS, PAD, VOCAB_SIZE, colours_of, crop_sizes, decode, render
from tasks.arc.transforms import identity_colour_map


def encode(grids: list[np.ndarray], canvas: int, row_offsets=None, col_offsets=None) -> np.ndarray:
    stacked, heights, widths = stack_grids(grids, canvas)
    n = len(grids)
    return render(stacked, heights, widths, np.zeros(n, dtype=np.int64), identity_colour_map(n),
                  row_offsets, col_offsets)


def all_shapes(side: int) -> list[np.ndarray]:
    rng = np.random.default_rng(side)
    return [rng.integers(0, 10, (h, w)).astype(np.uint8) for h in range(1, side + 1) for w in range(1, side + 1)]


def test_tokens_are_pad_0_eos_1_and_colours_2_to_11():
    tokens = encode([np.array([[0, 9]], dtype=np.uint8)], canvas=3).reshape(3, 3)
    np.testing.assert_array_equal(tokens, [[2, 11, EOS], [EOS, EOS, PAD], [PAD, PAD, PAD]])
    assert VOCAB_SIZE == 12


@pytest.mark.parametrize("canvas", [30, 7])
def test_encode_decode_round_trips_every_grid_shape_up_to_the_canvas(canvas):
    grids = all_shapes(canvas)
    tokens = encode(grids, canvas)
    for grid, sequence in zip(grids, tokens, strict=True):
        np.testing.assert_array_equal(decode(sequence, canvas), grid)
        np.testing.assert_array_equal(decode(sequence, canvas, find_origin=False), grid)


def test_eos_row_and_column_mark_the_grid_size_and_are_left_out_at_the_canvas_edge():
    canvas = 5
    tokens = encode([np.ones((2, 3), np.uint8), np.ones((5, 2), np.uint8), np.ones((5, 5), np.uint8)], canvas)
    grid = tokens.reshape(-1, canvas, canvas)
    assert np.all(grid[0, 2, :3] == EOS) and np.all(grid[0, :2, 3] == EOS) and grid[0, 2, 3] == PAD
    assert np.all(grid[1, :, 2] == EOS) and np.all(grid[1, :, 3:] == PAD)  # no EOS row: the grid fills the height
    assert not np.any(grid[2] == EOS)


def test_translated_grid_has_the_offset_and_decodes_from_wherever_it_sits():
    canvas = 6
    grids = [np.array([[1, 2, 3], [4, 5, 6]], np.uint8)] * 3
    tokens = encode(grids, canvas, np.array([0, 2, 4]), np.array([3, 1, 0])).reshape(-1, canvas, canvas)
    for sequence, (row, col) in zip(tokens, [(0, 3), (2, 1), (4, 0)], strict=True):
        np.testing.assert_array_equal(sequence[row:row + 2, col:col + 3], grids[0] + 2)
        assert np.count_nonzero(sequence >= 2) == 6
        np.testing.assert_array_equal(decode(sequence.ravel(), canvas), grids[0])
    assert np.all(tokens[0, 2, 3:] == EOS) and np.all(tokens[0, :, 0] == PAD)  # right edge: no wrapped EOS column
    assert np.all(tokens[2, 4:, 3] == EOS) and np.all(tokens[2, :4] == PAD)  # bottom edge: no EOS row


def test_decode_of_a_malformed_prediction_returns_the_largest_top_left_colour_rectangle():
    canvas = 4
    prediction = np.array([[2, 3, 4, PAD],
                           [5, 6, EOS, 7],
                           [8, 9, 10, PAD],
                           [EOS, 2, PAD, PAD]])
    np.testing.assert_array_equal(decode(prediction.ravel(), canvas, find_origin=False), [[0, 1], [3, 4], [6, 7]])


def test_decode_of_an_unreadable_prediction_is_an_empty_grid():
    canvas = 3
    for prediction in (np.full(9, PAD), np.full(9, EOS), np.array([EOS, 2, 2, 2, 2, 2, 2, 2, 2])):
        assert decode(prediction, canvas, find_origin=False).shape == (0, 0)
    assert decode(np.full(9, PAD), canvas).shape == (0, 0)
    assert decode(np.full(9, 200), canvas).shape == (0, 0)


def test_crop_sizes_reads_heights_and_widths_of_a_batch():
    canvas = 9
    grids = all_shapes(canvas)
    heights, widths = crop_sizes(encode(grids, canvas).reshape(-1, canvas, canvas))
    np.testing.assert_array_equal(heights, [g.shape[0] for g in grids])
    np.testing.assert_array_equal(widths, [g.shape[1] for g in grids])


def test_colours_of_maps_non_colour_tokens_to_0():
    np.testing.assert_array_equal(colours_of(np.array([0, 1, 2, 11, 12, 255])), [0, 0, 0, 9, 0, 0])
