#!/usr/bin/python3
# Writes the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET/): a few tiny valid files of
# each format, a few broken ones, and the hostile ones each loader must refuse cheaply. The
# bytes are fixed (no time stamps), so running it again changes nothing in git. Debian's own
# python3, for h5py and NumPy: tools/setup installs python3-h5py.
import gzip
import io
import os
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
corpus = os.path.join(here, "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# IDX: magic (0, 0, type, rank), big-endian 32-bit dims, big-endian data.
def idx(code, dims, data):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def idx_seeds():
    put("idx", "u8-3", idx(0x08, [3], b"\x01\x02\x03"))
    put("idx", "u8-2x3.gz", gz(idx(0x08, [2, 3], bytes(range(6)))))
    put("idx", "f32-2x2", idx(0x0D, [2, 2], struct.pack(">4f", 1.5, -2, 0, 3.25)))
    put("idx", "i16-2", idx(0x0B, [2], struct.pack(">2h", -300, 7)))
    put("idx", "f64-1.gz", gz(idx(0x0E, [1], struct.pack(">d", 0.1))))
    put("idx", "bad-magic", b"\x00\x01\x08\x01\x00\x00\x00\x01\x05")
    put("idx", "truncated-header", b"\x00\x00\x08\x03\x00\x00\x00\x02")
    put("idx", "trailing-bytes", idx(0x08, [2], b"\x01\x02\x03"))
    put("idx", "truncated.gz", gz(idx(0x08, [4, 4], bytes(16)))[:-9])
    # Dimensions whose product overflows 64 bits, with a few bytes of data.
    put("idx", "huge-dims", idx(0x0D, [0xFFFFFFFF] * 3, b"\x00" * 4))
    # A header of 4 bytes of data, then megabytes of zeros: inflating must stop at the header's size.
    put("idx", "bomb.gz", gz(idx(0x08, [4], b"\x01\x02\x03\x04") + bytes(4 << 20)))


# .npy: magic, version, a little-endian header length, a Python-literal header padded with
# spaces to a multiple of 64 bytes, then the data.
def npy(header, data, version=1):
    text = header.encode("latin1")
    prefix = 10 if version == 1 else 12
    pad = -(prefix + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + data


def npy_of(array):
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def npy_seeds():
    put("npy", "f4-2x3.npy", npy_of(np.arange(6, dtype="<f4").reshape(2, 3)))
    put("npy", "i8-3-v2.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", struct.pack("<3q", -1, 0, 2), 2))
    put("npy", "f8-2x2-fortran-be.npy", npy_of(np.asfortranarray(np.array([[1, 2], [3, 4]], dtype=">f8"))))
    put("npy", "bool-4.npy", npy_of(np.array([True, False, True, True])))
    put("npy", "u2-2.npy", npy_of(np.array([1, 65535], dtype="<u2")))
    put("npy", "u1-scalar.npy", npy_of(np.array(7, dtype="u1")))
    put("npy", "v3-utf8.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", struct.pack("<f", 1), 3))
    put("npy", "object.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\x80\x04N."))
    put("npy", "structured.npy", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", b"\0" * 4))
    put("npy", "truncated.npy", npy_of(np.arange(8, dtype="<i4"))[:-5])
    put("npy", "bad-magic.npy", b"\x93NUMPZ\x01\x00\x10\x00{}")
    # 4611686018427387905 elements of 4 bytes: 2^64 + 4 bytes, which wraps to 4.
    put("npy", "wrapping-shape.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387905,), }", b"\0" * 4))
    # A dimension past 2^64 as text.
    put("npy", "shape-past-2e64.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551619,), }", b"\0" * 4))


def zipped(members, method):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return out.getvalue()


def npz_seeds():
    x = npy_of(np.arange(6, dtype="<f4").reshape(3, 2))
    y = npy_of(np.array([0, 1, 1], dtype="<i8"))
    put("npz", "stored.npz", zipped([("x.npy", x), ("y.npy", y)], zipfile.ZIP_STORED))
    put("npz", "deflated.npz", zipped([("x.npy", x), ("y.npy", y)], zipfile.ZIP_DEFLATED))
    put("npz", "other-name.npz", zipped([("train_images.npy", x)], zipfile.ZIP_DEFLATED))
    put("npz", "empty.npz", zipped([], zipfile.ZIP_STORED))
    put("npz", "truncated.npz", zipped([("x.npy", x)], zipfile.ZIP_DEFLATED)[:-30])
    bad_crc = bytearray(zipped([("x.npy", x)], zipfile.ZIP_STORED))
    bad_crc[-20] ^= 0xFF  # inside the stored data
    put("npz", "bad-crc.npz", bytes(bad_crc))
    # A member whose central directory declares 4 GiB less 16 bytes, just under zip64's
    # marker; its .npy header claims a billion floats, its deflated data holds a few bytes.
    big = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741820,), }", bytes(64))
    z = bytearray(zipped([("x.npy", big)], zipfile.ZIP_DEFLATED))
    cd = z.find(b"PK\x01\x02")
    struct.pack_into("<I", z, cd + 24, 0xFFFFFFF0)
    put("npz", "declares-4gib.npz", bytes(z))


def csv_seeds():
    # The first byte picks the params (tests/fuzz/csv.cpp): header auto/true/false by pick % 3,
    # label "", "1", "3", "label" by pick / 3 % 4, float64 when pick / 12 is odd, NaN and
    # infinities allowed when pick / 24 is odd.
    put("csv", "plain", b"\x00" + b"1.5,-2,3e2\n0.1, +4 ,\"7\"\n")
    put("csv", "header-label", b"\x09" + b"a,b,label\n1,2,0\n3,4,1\n")
    put("csv", "label-column-1-f64", b"\x0f" + b"0,0.1,16777217\r\n1,1e-300,-0\r\n\r\n")
    put("csv", "quoted", b"\x01" + b"\"x, y\",\"say \"\"hi\"\"\"\n\"1,5\",2\n")
    put("csv", "ragged", b"\x00" + b"1,2,3\n4,5\n")
    put("csv", "unterminated", b"\x00" + b"1,\"2\n")
    put("csv", "not-a-number", b"\x02" + b"1,two\n")
    put("csv", "out-of-range", b"\x00" + b"1e999,1\n")
    put("csv", "label-not-integer", b"\x03" + b"0.5,1\n")
    put("csv", "header-only", b"\x01" + b"a,b\n")
    put("csv", "blank", b"\x00" + b"\n  \n\t\n")
    put("csv", "nonfinite", b"\x18" + b"nan,inf\n-inf,1\n")
    put("csv", "nonfinite-refused", b"\x00" + b"1,NaN\n")


# HDF5 records objects' times unless told not to: here neither the file's root group nor a
# group made with group() does, so the bytes stay the same.
def h5(build, libver="earliest"):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.h5")
        fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
        bound = {"earliest": h5py.h5f.LIBVER_EARLIEST, "latest": h5py.h5f.LIBVER_LATEST}[libver]
        fapl.set_libver_bounds(bound, h5py.h5f.LIBVER_LATEST)
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        fcpl.set_obj_track_times(False)
        with h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)) as f:
            build(f)
        with open(path, "rb") as f:
            return f.read()


def group(f, name):
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(f.id, name.encode(), gcpl=gcpl))


def hdf5_seeds():
    def xy(f):
        f["x"] = np.arange(6, dtype="<f4").reshape(2, 3)
        f["y"] = np.array([3, 1], dtype="<i8")

    def big_endian(f):
        f["x"] = np.array([[1, -2]], dtype=">i2")
        f["y"] = np.array([2], dtype=">u4")

    def chunked(f):
        f.create_dataset("x", data=np.arange(12, dtype="<f8").reshape(3, 4), chunks=(2, 2), compression="gzip", shuffle=True)
        f.create_dataset("y", data=np.arange(3, dtype="u1"), chunks=(2,), fletcher32=True)

    def strings(f):
        f["x"] = np.array([b"ab", b"c"], dtype="S2")
        f["y"] = np.array([1, 2], dtype="<u8")

    def external(f):
        # Data kept in another file that the dataset names: here /dev/zero, sized 16 bytes.
        f.create_dataset("x", shape=(16,), dtype="u1", external=[("/dev/zero", 0, 16)])
        f["y"] = np.zeros(0, dtype="u1")

    def nested(f):
        group(f, "g")["x"] = np.zeros((1, 1, 2), dtype="<f4")
        f["x"] = np.float64(2.5)
        f["y"] = h5py.SoftLink("/g/x")

    put("hdf5", "xy.h5", h5(xy))
    put("hdf5", "xy-latest.h5", h5(xy, libver="latest"))
    put("hdf5", "big-endian.h5", h5(big_endian))
    put("hdf5", "chunked-gzip.h5", h5(chunked))
    put("hdf5", "strings.h5", h5(strings))
    put("hdf5", "external.h5", h5(external))
    put("hdf5", "nested.h5", h5(nested, libver="latest"))
    put("hdf5", "truncated.h5", h5(xy)[:700])


def exec_output_seeds():
    def numeric(f):
        f["score"] = np.float64(0.75)
        f["per_class"] = np.arange(4, dtype="<f4")
        f["counts"] = np.array([[1, 2]], dtype="<i4")
        f["mask"] = np.array([0, 1], dtype="u1")

    def text(f):
        f["names"] = np.array(["a", "bc"], dtype=h5py.string_dtype())
        f["fixed"] = np.array([b"ab"], dtype="S2")

    def refused(f):
        f["wide"] = np.array([1], dtype="<u2")
        group(f, "group")

    put("exec_output", "numeric.h5", h5(numeric))
    put("exec_output", "strings.h5", h5(text, libver="latest"))
    put("exec_output", "refused.h5", h5(refused))
    put("exec_output", "empty.h5", h5(lambda f: None))
    put("exec_output", "chunked.h5", h5(lambda f: f.create_dataset("x", data=np.ones((4, 4), "<f8"), chunks=(2, 2), compression="gzip")))


def graph_seeds():
    for name in ["data-sweep", "exec-example", "seed-logreg", "seed-mlp", "seed-cnn", "seed"]:
        shutil.copy(os.path.join(root, "graphs", name + ".yaml"), os.path.join(corpus, "graph", name + ".yaml"))
    shutil.copy(os.path.join(root, "tests", "pinned_outputs.yaml"), os.path.join(corpus, "graph", "pinned-outputs.yaml"))
    put("graph", "sweeps.yaml", b"""vars: {a: 1, b: x, n: 10}
sweep: {a: [1, 2], b: [x, y]}
resources: {cpus: 2, mem: 4G, time: 1h30m}
nodes:
  c: {op: constant, params: {value: "${a}"}}
  d: {op: add, inputs: {a: c.value, b: c.value}, where: cluster, resources: {gpus: 1}}
  g: {op: aggregate, inputs: {x: d.sum}, over: a}
  t: {op: table, params: {title: "run-${b}", rows: [one], columns: [v]}, inputs: {cells: [g.mean]}}
""")
    put("graph", "errors.yaml", b"""vars: {n: [1, 2]}
sweep: {m: []}
nodes:
  a: {op: nope, inputs: {x: b.y}}
  b: {op: subset, inputs: {x: a.x, y: a.y}, params: {n: "${missing}", mode: sideways}}
  1bad: {op: constant}
  c: {op: train, params: {layers: [{dense: {units: -3}}], optimizer: {sgd: {lr: two}}}}
  c2: {op: train, params: {layers: [conv2d, {maxpool2d: null}], epochs: 0.5}}
""")
    put("graph", "syntax.yaml", b"nodes:\n  a: {op: constant\n  b: [\n")
    put("graph", "aliases.yaml", b"""vars: {v: &v [1, 2, 3]}
nodes:
  a: &node {op: constant, params: {value: *v}}
  b: *node
  c: {op: aggregate, inputs: {x: [a.value, b.value]}}
""")
    put("graph", "include-plain-name.yaml", b"""include: {mlp: seed-mlp.yaml, none: missing.yaml}
nodes:
  s: {op: model_summary, inputs: {model: mlp/model.model}}
""")
    put("graph", "exec.yaml", b"""nodes:
  e:
    op: exec
    params: {command: [./run.sh, "--k", 3], files: [run.sh], outputs: {score: scalar, t: tensor}, timeout: soon}
""")
    put("graph", "not-a-map.yaml", b"- nodes\n- op\n")


for target, seeds in [("idx", idx_seeds), ("npy", npy_seeds), ("npz", npz_seeds), ("csv", csv_seeds),
                      ("hdf5", hdf5_seeds), ("exec_output", exec_output_seeds), ("graph", graph_seeds)]:
    if len(sys.argv) > 1 and target not in sys.argv[1:]:
        continue
    shutil.rmtree(os.path.join(corpus, target), ignore_errors=True)
    os.makedirs(os.path.join(corpus, target))
    seeds()
