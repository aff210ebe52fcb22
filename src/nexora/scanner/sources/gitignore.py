"""A small ``.gitignore`` matcher: enough of git's rules to skip what a repository ignores."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


def _translate(pattern: str) -> str:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("/**", index) and index + 3 == len(pattern):
            parts.append("/.*")
            index += 3
            continue
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                parts.append(re.escape(char))
            else:
                body = pattern[index + 1 : end].replace("\\", "\\\\")
                parts.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
                index = end
        else:
            parts.append(re.escape(char))
        index += 1
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


@dataclass(slots=True)
class IgnoreRules:
    """Patterns from the ``.gitignore`` files met while walking, each anchored at its own folder."""

    scopes: list[tuple[str, list[_Pattern]]] = field(default_factory=list)

    def add_file(self, folder: str, path: Path) -> None:
        """Read the ``.gitignore`` at ``path`` whose folder is ``folder`` (relative, '' for the root)."""
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        patterns: list[_Pattern] = []
        for raw in lines:
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            directory_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line
            line = line.lstrip("/")
            body = _translate(line)
            regex = re.compile(("" if anchored else "(?:.*/)?") + body + "$")
            patterns.append(_Pattern(regex, negated, directory_only))
        if patterns:
            self.scopes.append((folder, patterns))

    def ignored(self, relative: str, is_directory: bool) -> bool:
        """Whether git would ignore ``relative`` (a '/'-separated path from the scan root)."""
        verdict = False
        for folder, patterns in self.scopes:
            if folder and not relative.startswith(folder + "/"):
                continue
            local = relative[len(folder) + 1 :] if folder else relative
            for pattern in patterns:
                if pattern.directory_only and not is_directory:
                    continue
                if pattern.regex.match(local):
                    verdict = not pattern.negated
        return verdict
