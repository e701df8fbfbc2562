"""Figure builders: pure functions (DataFrame, **options) -> go.Figure on the "rct" template."""
