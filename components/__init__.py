"""Pure layout builders and figure functions: Results or DataFrames in, Dash components or go.Figure out."""
