"""Help > About carries the GeoNames attribution that the places data's licence (CC BY 4.0) requires."""

from photosearch.gui.app.menus import about_text


def test_about_names_geonames_and_its_licence():
    text = about_text()
    assert "GeoNames" in text and "CC BY 4.0" in text
