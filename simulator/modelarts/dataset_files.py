"""A dataset's files in OBS: which objects become samples, the labels found beside them, and the
manifest format that imports read and exports and versions write.

- Which objects a dataset takes depends on its type: images (.jpg .jpeg .png .bmp) for image
  datasets, .txt/.csv for text, .wav for audio, .csv for tables, .mp4 for video; a free-format
  dataset takes every file.
- Labels, when annotations are imported: an image's same-named ``.txt`` file holds its labels
  (one per line, the "tile" layout an export writes); an image one folder below the import
  path takes the folder's name (the "tree" layout); an object detection image's same-named
  PASCAL VOC ``.xml`` file gives its boxes.
- A manifest is one JSON object per line: ``source`` (an obs:// or s3:// path), ``usage`` and
  ``annotation`` (a list of ``{type, name, annotated-by, creation-time[, property]}``), with
  ``annotation-loc`` naming a VOC file for object detection.
"""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass
from xml.etree import ElementTree

import orjson

from simulator.obs.files import ObsFiles, ObsObject, split

IMAGES = (".jpg", ".jpeg", ".png", ".bmp")
EXTENSIONS = {0: IMAGES, 1: IMAGES, 3: IMAGES, 100: (".txt", ".csv"), 101: (".txt", ".csv"),
              102: (".txt", ".csv"), 200: (".wav",), 201: (".wav",), 202: (".wav",),
              400: (".csv",), 600: (".mp4",), 900: None}
SAMPLE_TYPES = {0: 0, 1: 0, 3: 0, 100: 1, 101: 1, 102: 1, 200: 2, 201: 2, 202: 2, 400: 4,
                600: 6, 900: 9}
ANNOTATION_TYPES = {0: "modelarts/image_classification", 1: "modelarts/object_detection",
                    3: "modelarts/image_segmentation", 100: "modelarts/text_classification",
                    101: "modelarts/text_entity", 102: "modelarts/text_triplet",
                    200: "modelarts/audio_classification", 201: "modelarts/audio_content",
                    202: "modelarts/audio_segmentation"}
OBJECT_DETECTION = 1
MAX_LABEL_FILE = 1 << 20  # bytes read of a .txt or .xml annotation
MAX_MANIFEST = 64 << 20
MAX_MANIFEST_LINES = 100_000
BOX = "bndbox"


class ManifestError(ValueError):
    """A manifest that cannot be read; the message names the line."""


@dataclass
class Found:
    """A file that becomes a sample."""
    path: str  # /bucket/key
    size: int
    sample_type: int
    labels: list  # label objects, as the samples API shows them

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


def label(name: str, dataset_type: int, prop: dict | None = None) -> dict:
    return {"name": name, "type": dataset_type, "property": dict(prop or {}), "attributes": []}


def takes(dataset_type: int, key: str) -> bool:
    """Whether a dataset of this type takes the object as a sample."""
    wanted = EXTENSIONS.get(dataset_type)
    lower = key.lower()
    if wanted is None:
        return not lower.endswith(".manifest")
    return lower.endswith(wanted)


def scan(files: ObsFiles, folder: str, dataset_type: int, annotations: bool) -> list[Found]:
    """The samples a folder holds, with their labels when annotations are imported."""
    objects = files.objects(folder)
    by_key = {o.key: o for o in objects}
    _, base = split(folder)
    found = []
    for obj in objects:
        if not takes(dataset_type, obj.key):
            continue
        labels = _labels_beside(files, obj, by_key, base, dataset_type) if annotations else []
        found.append(Found(obj.path, obj.size, SAMPLE_TYPES.get(dataset_type, 9), labels))
    return found


def _labels_beside(files: ObsFiles, obj: ObsObject, by_key: dict, base: str,
                   dataset_type: int) -> list:
    if dataset_type not in (0, OBJECT_DETECTION) or obj.key.lower().endswith(".txt"):
        return []
    stem = obj.key.rsplit(".", 1)[0]
    if dataset_type == OBJECT_DETECTION:
        xml = by_key.get(stem + ".xml")
        if xml is None:
            return []
        return parse_voc(files.read(xml.path, MAX_LABEL_FILE) or b"", dataset_type)
    txt = by_key.get(stem + ".txt")
    if txt is not None:
        text = (files.read(txt.path, MAX_LABEL_FILE) or b"").decode("utf-8", "replace")
        names = [line.strip() for line in text.splitlines() if line.strip()]
        return [label(n, dataset_type) for n in dict.fromkeys(names)]
    rest = obj.key[len(base):].split("/")
    if len(rest) == 2 and rest[0]:  # one folder down: the tree layout, folder = label
        return [label(rest[0], dataset_type)]
    return []


def parse_voc(data: bytes, dataset_type: int) -> list:
    """The boxes of a PASCAL VOC file, as labels; nothing when it is not one."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return []  # no entities: a label file has no use for them
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return []
    labels = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        if not name:
            continue
        prop = {"@modelarts:shape": BOX}
        box = obj.find(BOX)
        if box is not None:
            try:
                corners = [int(float(box.findtext(k) or "")) for k in
                           ("xmin", "ymin", "xmax", "ymax")]
                prop["@modelarts:feature"] = [corners[:2], corners[2:]]
            except (ValueError, OverflowError):  # not numbers, or inf
                pass
        labels.append(label(name, dataset_type, prop))
    return labels


def voc(name: str, labels: list) -> bytes:
    """A PASCAL VOC file for an image's boxes (what an object detection export writes)."""
    root = ElementTree.Element("annotation")
    ElementTree.SubElement(root, "filename").text = name
    for tag in labels:
        obj = ElementTree.SubElement(root, "object")
        ElementTree.SubElement(obj, "name").text = tag["name"]
        corners = _corners(tag.get("property", {}).get("@modelarts:feature"))
        if corners is not None:
            box = ElementTree.SubElement(obj, BOX)
            for k, v in zip(("xmin", "ymin", "xmax", "ymax"), corners):
                ElementTree.SubElement(box, k).text = str(v)
    return ElementTree.tostring(root, encoding="utf-8")


def _corners(feature) -> list | None:
    """[xmin, ymin, xmax, ymax] of a box feature [[xmin, ymin], [xmax, ymax]], or None when
    the feature is not one (labels come from uploads and manifests: anything may be there)."""
    if not (isinstance(feature, list) and len(feature) == 2
            and all(isinstance(p, list) and len(p) == 2 for p in feature)):
        return None
    corners = feature[0] + feature[1]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in corners):
        return None
    return corners


# -- manifests -------------------------------------------------------------------------------

def read_manifest(files: ObsFiles, path: str, dataset_type: int,
                  annotations: bool) -> tuple[list[Found], int]:
    """(samples whose source exists, lines read). Raises ManifestError for a line that is not
    a manifest record, or a manifest too large to read."""
    data = files.read(path, MAX_MANIFEST)
    if data is None:
        raise ManifestError("The manifest %s cannot be read." % path)
    found, lines, sizes = [], 0, {}
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        lines += 1
        if lines > MAX_MANIFEST_LINES:
            raise ManifestError("The manifest has more than %d records." % MAX_MANIFEST_LINES)
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ManifestError("Line %d of the manifest is not JSON." % n) from None
        source = record.get("source") if isinstance(record, dict) else None
        if not isinstance(source, str) or not source.startswith(("obs://", "s3://")):
            raise ManifestError("Line %d of the manifest has no obs:// or s3:// source." % n)
        bucket, key = split(source)
        if bucket not in sizes:  # one pass over each bucket, not one per line
            sizes[bucket] = files.sizes(bucket)
        size = sizes[bucket].get(key)
        if size is None:
            continue  # a source that is gone (or names a folder) is not imported
        labels = _manifest_labels(files, record, dataset_type) if annotations else []
        found.append(Found("/%s/%s" % (bucket, key), size, SAMPLE_TYPES.get(dataset_type, 9),
                           labels))
    return found, lines


def _manifest_labels(files: ObsFiles, record: dict, dataset_type: int) -> list:
    labels = []
    items = record.get("annotation")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        loc = item.get("annotation-loc")
        if isinstance(loc, str) and loc.startswith(("obs://", "s3://")):
            labels += parse_voc(files.read(loc, MAX_LABEL_FILE) or b"", dataset_type)
            continue
        name = item.get("name")
        if isinstance(name, str) and name:
            prop = item.get("property")
            labels.append(label(name, dataset_type, prop if isinstance(prop, dict) else None))
    return labels


def manifest_line(source: str, labels: list, dataset_type: int, at_ms: int,
                  usage: str = "TRAIN") -> bytes:
    """One manifest record; source is already written with its scheme (obs:// or s3://). An
    object detection box keeps its corners in the annotation's property."""
    created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at_ms / 1000))
    kind = {"type": ANNOTATION_TYPES[dataset_type]} if dataset_type in ANNOTATION_TYPES else {}
    annotation = []
    for tag in labels:
        item = {**kind, "name": tag["name"], "annotated-by": "human", "creation-time": created}
        if tag.get("property"):
            item["property"] = tag["property"]
        annotation.append(item)
    record = {"source": source, "usage": usage}
    if annotation:
        record["annotation"] = annotation
    return orjson.dumps(record)
