"""Durations and sizes as the CLI and the window print them."""


def test_humanize_durations_and_sizes():
    from photosearch.humanize import format_duration, format_size

    assert format_duration(59.6) == "1:00"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(None) == "--:--" and format_duration(float("nan")) == "--:--"
    assert format_duration(float("inf"), unknown="—") == "—" and format_duration(-1) == "--:--"
    assert format_size(None) == "—" and format_size(512) == "512 B" and format_size(1536) == "1.5 KB"
    assert format_size(5 * 1024 ** 4) == "5120.0 GB"
