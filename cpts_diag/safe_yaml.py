"""Bounded YAML reading: the one helper every YAML reader of the package goes through.

``yaml.safe_load`` semantics (no Python tags), plus three bounds so that a hostile or careless file
cannot exhaust memory or time:

- a size limit, checked before parsing (``YamlLimits.max_bytes``: 1 MB for a user file, more for
  the package's own ``indicators.yaml``);
- an alias-expansion limit: the document, with every alias (``*nom``) expanded, must hold at most
  ``YamlLimits.max_nodes`` nodes. Benign anchors (a list of colours reused a few times) pass; a
  "billion laughs" alias bomb is refused after composing its few hundred distinct nodes, before
  anything is built. Recursive aliases (``&a [*a]``) are refused;
- a nesting limit (``[[[[…]]]]`` thousands deep), refused instead of a ``RecursionError``.

Mappings refuse a key given twice (:class:`UniqueKeyLoader`): plain ``yaml.safe_load`` keeps the
last of two ``members:`` without a word.

API: :func:`read_yaml` (a file), :func:`load_yaml` (text, with a French error naming ``where``),
:func:`parse_yaml` (text, raising the raw ``yaml.YAMLError`` or :class:`YamlLimitError`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import CptsDiagError
from .fmt import fmt_number

__all__ = ["YamlLimits", "USER_LIMITS", "PACKAGE_LIMITS", "REGISTRY_LIMITS", "UniqueKeyLoader",
           "YamlFileError", "YamlLimitError", "parse_yaml", "load_yaml", "read_yaml"]


@dataclass(frozen=True)
class YamlLimits:
    """Bounds of one kind of YAML file."""

    max_bytes: int  # size of the file (UTF-8 bytes)
    max_nodes: int  # nodes of the document once every alias is expanded
    max_depth: int = 100  # nesting of lists / mappings
    label: str = "fichier utilisateur"  # French, shown in the error


#: perimeters, scenario specs, any file a user writes or receives
USER_LIMITS = YamlLimits(max_bytes=1_000_000, max_nodes=250_000, label="fichier utilisateur")
#: small data files shipped in the package (apl_parameters.yaml, map_classes.yaml)
PACKAGE_LIMITS = YamlLimits(max_bytes=1_000_000, max_nodes=250_000, label="fichier du paquet")
#: the indicator registry (indicators.yaml, about 60 kB today: room to grow)
REGISTRY_LIMITS = YamlLimits(max_bytes=4_000_000, max_nodes=1_000_000,
                             label="registre des indicateurs")


class YamlFileError(CptsDiagError, ValueError):
    """A YAML file or text could not be read; ``str()`` names the file, the problem and the fix."""

    def __init__(self, where: str, reason: str):
        self.where, self.reason = where, reason
        super().__init__(f"{where} : {reason}")


class YamlLimitError(YamlFileError):
    """A YAML document exceeds its size, alias-expansion or nesting limit."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (same safe tags) whose mappings refuse a key given twice."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # unhashable key: SafeLoader reports it below
                continue
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    "en lisant un dictionnaire", node.start_mark,
                    f"clé « {key} » en double (lignes {first.start_mark.line + 1} et "
                    f"{key_node.start_mark.line + 1}) : "
                    "chaque clé, et chaque identifiant d'indicateur, ne doit figurer qu'une fois — "
                    "supprimez ou renommez l'une des deux", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _fix_aliases(limits: YamlLimits) -> str:
    return (f"le document, ses alias (*nom) développés, dépasse {fmt_number(limits.max_nodes)} "
            f"éléments (limite d'un {limits.label}) : probable « bombe » d'alias. Correctif : "
            "écrivez les valeurs sans ancres ni alias (&nom / *nom)")


def _expanded_size(root, limits: YamlLimits, where: str) -> int:
    """Number of nodes of the document with aliases expanded (iterative, memoised per node).

    Raises :class:`YamlLimitError` beyond ``limits.max_nodes``, on a recursive alias or beyond
    ``limits.max_depth`` levels of nesting."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool, int]] = [(root, False, 0)]
    while stack:
        node, done, depth = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            total = 1
            for child in _children(node):
                total += size[id(child)]
                if total > limits.max_nodes:
                    raise YamlLimitError(where, _fix_aliases(limits))
            size[nid] = total
            continue
        if nid in size:
            continue
        if nid in on_path:
            raise YamlLimitError(where, "alias récursif (une ancre &nom se contient elle-même). "
                                        "Correctif : supprimez cet alias")
        if depth > limits.max_depth:
            raise YamlLimitError(where, f"imbrication de plus de {limits.max_depth} niveaux. "
                                        "Correctif : aplatissez le document")
        on_path.add(nid)
        stack.append((node, True, depth))
        stack.extend((c, False, depth + 1) for c in _children(node) if id(c) not in size)
    return size[id(root)]


def _children(node):
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return ()


def parse_yaml(text: str, limits: YamlLimits = USER_LIMITS, *, unique_keys: bool = True,
               where: str = "texte YAML") -> Any:
    """Parse one YAML document within ``limits``.

    Raises :class:`YamlLimitError` (size, alias expansion, nesting) or the raw ``yaml.YAMLError``
    (syntax, forbidden tag such as ``!!python/object``, duplicate key when ``unique_keys``)."""
    n = len(text) if len(text) > limits.max_bytes else len(text.encode("utf-8"))
    if n > limits.max_bytes:
        raise YamlLimitError(where, _too_big(n, limits))
    loader = (UniqueKeyLoader if unique_keys else yaml.SafeLoader)(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError(where, "imbrication trop profonde. Correctif : aplatissez le "
                                        "document") from None
        if node is None:
            return None
        _expanded_size(node, limits, where)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _too_big(n: int, limits: YamlLimits) -> str:
    return (f"fichier YAML trop volumineux ({fmt_number(n)} octets ; limite d'un {limits.label} : "
            f"{fmt_number(limits.max_bytes)} octets). Correctif : vérifiez qu'il s'agit du bon "
            "fichier, ou découpez-le")


def load_yaml(text: str, where: str, limits: YamlLimits = USER_LIMITS, *,
              unique_keys: bool = True) -> Any:
    """:func:`parse_yaml`, every failure raised as :class:`YamlFileError` naming ``where``
    (line and column of a syntax error, the forbidden tag, the duplicate key) with the fix."""
    try:
        return parse_yaml(text, limits, unique_keys=unique_keys, where=where)
    except YamlFileError:
        raise
    except yaml.constructor.ConstructorError as exc:
        raise YamlFileError(where, _constructor_reason(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlFileError(where, f"YAML mal formé{loc} : {problem}. Correctif : corrigez la "
                                   "syntaxe (indentation, guillemets, deux-points)") from None


def _constructor_reason(exc) -> str:
    mark = getattr(exc, "problem_mark", None)
    loc = f" (ligne {mark.line + 1})" if mark is not None else ""
    problem = str(getattr(exc, "problem", "") or exc)
    if "en double" in problem:
        return f"{problem}{loc}"
    return (f"étiquette YAML non autorisée{loc} : {problem}. Correctif : retirez les étiquettes "
            "« !!python/… » et autres types non standard ; seuls les types YAML simples (textes, "
            "nombres, listes, dictionnaires, dates) sont lus")


def read_yaml(path: str | Path, limits: YamlLimits = USER_LIMITS, *, where: str | None = None,
              unique_keys: bool = True) -> Any:
    """Read and parse the YAML file ``path`` within ``limits`` (size checked before reading it
    whole). Every failure is a :class:`YamlFileError` whose message starts with ``where``
    (default: the path)."""
    path = Path(path)
    where = where or str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise YamlFileError(where, f"illisible ({exc.strerror or exc}). Correctif : vérifiez le "
                                   "chemin et les droits du fichier") from None
    if len(raw) > limits.max_bytes:
        try:
            n = path.stat().st_size
        except OSError:
            n = len(raw)
        raise YamlLimitError(where, _too_big(max(n, len(raw)), limits))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlFileError(where, f"illisible : n'est pas du texte UTF-8 ({exc.reason}, octet "
                                   f"{exc.start}). Correctif : enregistrez-le en UTF-8") from None
    return load_yaml(text, where, limits, unique_keys=unique_keys)
