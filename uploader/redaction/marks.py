"""Marks: fixed strings the redactor's one scan finds for its caller, besides secrets.

The write path looks in every line it stores for a few strings (`compact`, the usage
marks). Compiled into the redactor's Hyperscan database they cost nothing more to find
(the scan reads every byte anyway; a separate scan costs 0.2 to 0.5 ms of CPU per MB), but
the caller needs them where they are in the *redacted* bytes. Outside the lines that
changed, a mark just moves back by what the changed lines before it lost; inside one, it
may have gone with a secret, so those few lines are searched again.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Where a mark is: (offset, index of the string in the redactor's marks).
MarkHit = tuple[int, int]
#: A line redaction changed: (input start, input end, output start, output end).
ChangedLine = tuple[int, int, int, int]


def marks_in_output(
    found: list[MarkHit], changed: Sequence[ChangedLine], out: bytes, marks: Sequence[bytes]
) -> tuple[MarkHit, ...]:
    """The marks found in the input (`found`), where they are in `out`, in order."""
    hits: set[MarkHit] = set()
    i, shift = 0, 0  # the next changed line; input bytes minus output bytes before it
    for at, index in sorted(found):
        while i < len(changed) and changed[i][1] <= at:
            shift = changed[i][1] - changed[i][3]
            i += 1
        if i < len(changed) and changed[i][0] <= at:
            continue  # on a changed line: searched below
        hits.add((at - shift, index))
    for _, _, start, end in changed:
        for index, mark in enumerate(marks):
            at = out.find(mark, start, end)
            while at >= 0:
                hits.add((at, index))
                at = out.find(mark, at + 1, end)
    return tuple(sorted(hits))
