"""Where, when and what: metadata read from each photo at index time (EXIF, image kind, dominant colours),
places from GPS (offline GeoNames data), dates in plain words, and facet counts. No Qt here."""
