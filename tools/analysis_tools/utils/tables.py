"""Markdown tables of the analysis tools."""
import math
from typing import Dict, Sequence

import numpy as np


def format_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table (aligned columns; floats with 2 decimals).

    Args:
        header (Sequence[str]): Column titles.
        rows (Sequence[Sequence]): Cells; ``float`` cells print as
            ``12.34`` (``-`` for ``nan``).

    Returns:
        str: The table, one line per row, header and rule first.
    """

    def cell(x) -> str:
        if isinstance(x, (float, np.floating)):
            return '-' if math.isnan(x) else f'{x:.2f}'
        return str(x)

    text = [[cell(x) for x in row] for row in rows]
    widths = [
        max([len(h)] + [len(r[i]) for r in text])
        for i, h in enumerate(header)
    ]

    def line(cells):
        return '| ' + ' | '.join(c.ljust(w)
                                 for c, w in zip(cells, widths)) + ' |'

    out = [line(header), '| ' + ' | '.join('-' * w for w in widths) + ' |']
    out += [line(r) for r in text]
    return '\n'.join(out)


def report_table(report: Dict) -> str:
    """Per-class rows then the summary rows of a report as a table."""
    rows = [(c['class'], c['support'], c['accuracy'], c['f1'])
            for c in report['per_class']]
    rows += [('top-1', report['num_samples'], report['top1'], ''),
             ('mean class acc', '', report['mean_class_acc'], ''),
             ('macro F1', '', '', report['macro_f1'])]
    return format_table(('class', 'samples', 'accuracy (%)', 'F1 (%)'),
                        rows)
