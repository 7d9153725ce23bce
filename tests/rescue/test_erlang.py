import pytest

from rathaus.rescue.erlang import erlang_c, positions_for, staff_for_service_level


def test_reference_check_vector_comes_out_exactly():
    # REFERENCE.md: 100 calls / 30 min, AHT 180 s, 20 s target, 80 % SL, 30 % shrinkage
    result = staff_for_service_level(
        arrivals=100,
        period=1800,
        handling_time=180,
        target_wait=20,
        service_level_target=0.80,
        shrinkage=0.30,
    )
    assert result.servers == 14
    assert round(result.service_level, 5) == 0.88835
    assert round(result.probability_wait, 7) == 0.1741319
    assert round(result.average_speed_of_answer, 3) == 7.836
    assert round(result.occupancy, 7) == 0.7142857
    assert result.positions == 20


def test_thirteen_agents_miss_the_reference_target():
    # the answer is the smallest N: one fewer must fall short of 80 %
    from rathaus.rescue.erlang import service_level

    assert service_level(13, 10.0, 180, 20) < 0.80


def test_erlang_c_is_certain_wait_when_overloaded_and_zero_without_traffic():
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c(3, 0.0) == 0.0
    assert 0 < erlang_c(6, 5.0) < 1


def test_positions_round_up_but_not_on_floating_point_noise():
    assert positions_for(14, 0.3) == 20
    assert positions_for(15, 0.3) == 22
    with pytest.raises(ValueError):
        positions_for(10, 1.0)
