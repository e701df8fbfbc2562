"""The customer tables: AG Grid, paged, sortable and filterable, one look across tabs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_ag_grid as dag

# (field, header, d3 value formatter or None)
Column = tuple[str, str, str | None]


def customer_grid(grid_id: str, columns: Sequence[Column], height_px: int = 560,
                  wide: Sequence[str] = (), tooltips: Mapping[str, str] | None = None) -> dag.AgGrid:
    """An empty grid (callbacks send the rows); ``wide`` columns hold sentences and get more room;
    ``tooltips`` define columns on their header."""
    tooltips = tooltips or {}
    column_defs = [
        {"field": field, "headerName": header, "filter": True, "sortable": True,
         **({"valueFormatter": {"function": fmt}} if fmt else {}),
         **({"headerTooltip": tooltips[field]} if field in tooltips else {}),
         **({"flex": 2, "minWidth": 260} if field in wide else {"flex": 1, "minWidth": 100})}
        for field, header, fmt in columns
    ]
    return dag.AgGrid(
        id=grid_id,
        columnDefs=column_defs,
        rowData=[],
        dashGridOptions={"pagination": True, "paginationPageSize": 20, "animateRows": False},
        style={"height": f"{height_px}px"},
        className="ag-theme-alpine",
    )
