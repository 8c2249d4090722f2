"""A readable notebook display of the indicator table: French labels, formatted values, the
territory and its comparators side by side (``_repr_html_``); ``.frame`` is the tidy frame."""
from __future__ import annotations

import html

import pandas as pd

from ..fmt import ND, fmt_number, is_missing

_LEVELS = (("territory", "Territoire"), ("departement", "Département"), ("region", "Région"),
           ("france_metro", "France métropolitaine"))


class IndicatorTable:
    """Wraps :func:`cpts_diag.indicators.compute_all`'s tidy frame for display."""

    def __init__(self, tidy: pd.DataFrame, territory=None):
        self.frame = tidy
        self.territory = territory

    def wide(self) -> pd.DataFrame:
        """One row per indicator: label, unit, then one column per territory (raw values)."""
        from ..indicators import INDICATORS

        t = self.frame[self.frame["level"].isin([lv for lv, _ in _LEVELS])]
        names = t.drop_duplicates(["level", "code"]).set_index(["level", "code"])["name"]
        w = t.pivot_table(index="indicator_id", columns=["level", "code"], values="value",
                          aggfunc="first", dropna=False)
        order = [k for k in INDICATORS if k in w.index]
        w = w.reindex(order)
        cols = [c for lv, _ in _LEVELS for c in w.columns if c[0] == lv]
        out = pd.DataFrame({"Indicateur": [INDICATORS[i]["label"] for i in order],
                            "Unité": [INDICATORS[i]["unit"] for i in order]}, index=order)
        for c in cols:
            out[str(names.get(c, c[1]))] = w[c].to_numpy()
        return out

    def _repr_html_(self) -> str:
        from ..indicators import INDICATORS

        w = self.wide()
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in w.columns)
        rows = []
        for iid, r in w.iterrows():
            d = int(INDICATORS[iid].get("decimals", 1))
            cells = [f"<td style='text-align:left'>{html.escape(str(r.iloc[0]))}</td>",
                     f"<td style='text-align:left'>{html.escape(str(r.iloc[1]))}</td>"]
            cells += [f"<td style='text-align:right'>{html.escape(ND if is_missing(v) else fmt_number(v, d))}</td>"
                      for v in r.iloc[2:]]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        title = html.escape(getattr(self.territory, "name", "") or "")
        return (f"<b>Indicateurs — {title}</b> ({len(w)} indicateurs)<table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def __repr__(self) -> str:
        return f"IndicatorTable({len(self.frame)} lignes, {self.frame['indicator_id'].nunique()} indicateurs)"
