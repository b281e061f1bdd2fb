"""Student skeletons are generated from the reference solutions, so the two never drift apart.

In a solution file every blank is a block

    # BEGIN YOUR CODE
    # TODO(Exercise N): what to write          (one or more comment lines, kept)
    ...reference code...                       (removed)
    # END YOUR CODE

and the skeleton keeps the markers and the TODO comment and replaces the code with
``raise NotImplementedError("Exercise N: implement <function> (...)")``.

Regenerate after editing a solution:  ``python -m tinygrad_dnn.exercises.skeletons``
(``tests/exercises`` fails when the committed skeletons differ from the generated ones).
"""
from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"
STUDENT = HERE / "student"
BEGIN, END = "# BEGIN YOUR CODE", "# END YOUR CODE"
NOQA = "# ruff: noqa  (until you fill the blanks, the imports and given variables are unused)"
_DEF = re.compile(r"^\s*(?:def|class)\s+(\w+)")


def _enclosing(lines, i):
    """Qualified name (Class.method or function) of the definition containing line i."""
    names, indent = [], None
    for line in reversed(lines[:i]):
        m = _DEF.match(line)
        if m:
            ind = len(line) - len(line.lstrip())
            if indent is None or ind < indent:
                names.append(m.group(1))
                indent = ind
                if ind == 0:
                    break
    return ".".join(reversed(names)) or "<module>"


def make_skeleton(text: str, number: int) -> str:
    """The student version of one solution file's text."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        if line.strip() != BEGIN:
            i += 1
            continue
        indent = line[:len(line) - len(line.lstrip())]
        where = _enclosing(lines, i)
        i += 1
        todo = []
        while i < len(lines) and lines[i].strip().startswith("#") and lines[i].strip() != END:
            todo.append(lines[i])
            i += 1
        while i < len(lines) and lines[i].strip() != END:
            i += 1
        if i == len(lines):
            raise ValueError(f"exercise {number}: {BEGIN!r} in {where} has no {END!r}")
        first = todo[0].split(":", 1)[1].strip() if todo and ":" in todo[0] else "see the docstring"
        first = first.replace('"', "'")
        out.extend(todo)
        out.append(f'{indent}raise NotImplementedError("Exercise {number}: implement {where}: {first}")')
        out.append(lines[i])  # the END marker
        i += 1
    first_import = next((k for k, l in enumerate(out) if l.startswith(("import ", "from "))), 0)
    out.insert(first_import, NOQA)
    return "\n".join(out) + "\n"


def solution_files():
    return sorted(SOLUTIONS.glob("ex[0-9][0-9]_*.py"))


def generate(write=True):
    """{path: text} of every skeleton; writes them when ``write``."""
    result = {}
    for path in solution_files():
        number = int(path.name[2:4])
        text = make_skeleton(path.read_text(), number)
        target = STUDENT / path.name
        result[target] = text
        if write:
            target.write_text(text)
    return result


if __name__ == "__main__":  # pragma: no cover
    for p in generate():
        print(f"wrote {p}")
