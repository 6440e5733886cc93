import pandas as pd
import pytest

from procmine import schema


def test_require_columns_passes_when_present():
    frame = pd.DataFrame(columns=list(schema.REQUIRED))
    schema.require_columns(frame, schema.REQUIRED)


def test_missing_column_error_lists_found_and_closest():
    frame = pd.DataFrame(columns=["case:concept:name", "concept_name", "timestamp"])
    with pytest.raises(schema.MissingColumnError) as info:
        schema.require_columns(frame, schema.REQUIRED)
    message = str(info.value)
    assert "'concept:name' (closest: 'concept_name'" in message
    assert "'time:timestamp'" in message
    assert "Columns found: ['case:concept:name', 'concept_name', 'timestamp']" in message
    assert "case:concept:name' (" not in message  # present columns are not reported missing
