"""Unit tests of int8cal_plugin: python -m unittest discover -s python/tests
(with int8cal_plugin importable). The Go tests in python/plugintest run them
and test the SDK end to end against the real host."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Any, Callable, Mapping

import grpc
import numpy as np

from int8cal_plugin import Calibrator, Dataset, Input, Meta, Option, OptionError, Range, Statistics, TensorStats, _server, _x509
from int8cal_plugin._proto.int8cal.batchstream.v2 import batchstream_pb2 as dpb
from int8cal_plugin._proto.int8cal.calibrator.v1 import calibrator_pb2 as cpb
from int8cal_plugin.calibrator import _Servicer as _CalibratorServicer
from int8cal_plugin.calibrator import ranges_message, receive
from int8cal_plugin.dataset import CHUNK_BYTES, _Servicer, checked_batch, slot_layout
from int8cal_plugin.options import merge

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def der_tlv(b: bytes, i: int) -> tuple[int, bytes, int]:
    """Reads one DER element at i: its tag, its body, the index after it."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i : i + k], "big")
        i += k
    return tag, b[i : i + n], i + n


def der_children(body: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i < len(body):
        tag, child, i = der_tlv(body, i)
        out.append((tag, child))
    return out


class CertificateTest(unittest.TestCase):
    def test_self_signed(self) -> None:
        cert = _x509.generate()
        tag, body, end = der_tlv(cert.der, 0)
        self.assertEqual((tag, end), (0x30, len(cert.der)))
        (_, tbs), (_, alg), (sig_tag, sig) = der_children(body)
        self.assertEqual(sig_tag, 0x03)
        self.assertEqual(alg, bytes.fromhex("06082a8648ce3d040302"), "ecdsa-with-SHA256")
        tbs_der = body[: der_tlv(body, 0)[2]]
        fields = der_children(tbs)
        # version, serial, signature, issuer, validity, subject, key, extensions
        self.assertEqual([t for t, _ in fields], [0xA0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30, 0xA3])
        self.assertEqual(fields[3], fields[5], "issuer = subject: self-signed")
        self.assertLess(fields[1][1][0], 0x80, "the serial number is positive")
        point = der_children(fields[6][1])[1][1][1:]  # BIT STRING minus its unused-bits byte
        self.assertEqual(point[0], 4)
        x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
        self.assertTrue(_x509.on_curve(x, y))
        (_, r), (_, s) = der_children(der_tlv(sig, 1)[1])
        self.assertTrue(_x509.verify(x, y, tbs_der, int.from_bytes(r, "big"), int.from_bytes(s, "big")))
        self.assertFalse(_x509.verify(x, y, tbs_der + b"x", int.from_bytes(r, "big"), int.from_bytes(s, "big")))
        self.assertIn(b"localhost", tbs)
        self.assertTrue(cert.key_pem.startswith(b"-----BEGIN EC PRIVATE KEY-----\n"))
        self.assertTrue(cert.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----\n"))

    def test_handshake_text(self) -> None:
        cert = _x509.generate()
        text = cert.handshake_text()
        self.assertNotIn("=", text)
        self.assertEqual(base64.b64decode(text + "=" * (-len(text) % 4)), cert.der)

    def test_fresh_keys(self) -> None:
        self.assertNotEqual(_x509.generate().key_pem, _x509.generate().key_pem)

    def test_grpc_takes_it(self) -> None:
        cert = _x509.generate()
        server = grpc.server(_thread_pool())
        port = server.add_secure_port("localhost:0", grpc.ssl_server_credentials([(cert.key_pem, cert.cert_pem)]))
        self.assertNotEqual(port, 0)
        server.stop(None)


def _thread_pool() -> Any:
    from concurrent import futures

    return futures.ThreadPoolExecutor(max_workers=1)


CALIBRATOR = _server.Protocol("calibrator", "c", 1, "int8cal.calibrator.v1", "calibrator")
BATCHSTREAM = _server.Protocol("batchstream", "b", 2, "int8cal.batchstream.v2", "data set")


class HandshakeTest(unittest.TestCase):
    def test_negotiate(self) -> None:
        self.assertEqual(_server.negotiate(BATCHSTREAM, {"PLUGIN_PROTOCOL_VERSIONS": "2,1"}), 2)
        self.assertEqual(_server.negotiate(CALIBRATOR, {"PLUGIN_PROTOCOL_VERSIONS": "1"}), 1)
        self.assertEqual(_server.negotiate(CALIBRATOR, {}), 1)
        with self.assertRaisesRegex(_server.HandshakeError, "offers protocol versions 1 and this plugin serves 2"):
            _server.negotiate(BATCHSTREAM, {"PLUGIN_PROTOCOL_VERSIONS": "1"})
        with self.assertRaisesRegex(_server.HandshakeError, "not a list of integers"):
            _server.negotiate(BATCHSTREAM, {"PLUGIN_PROTOCOL_VERSIONS": "2,x"})

    def test_line(self) -> None:
        cert = _x509.generate()
        line = _server.handshake_line(2, "/tmp/d/plugin1", cert)
        self.assertEqual(
            _server.parse_handshake(line + "\n"),
            {"core": "1", "version": "2", "network": "unix", "address": "/tmp/d/plugin1", "protocol": "grpc", "cert": cert.handshake_text()},
        )
        self.assertTrue(_server.handshake_line(1, "/s", None).endswith("|grpc|"))
        with self.assertRaises(ValueError):
            _server.parse_handshake("1|1|unix")

    def test_socket_path(self) -> None:
        path = _server.socket_path({"PLUGIN_UNIX_SOCKET_DIR": "/run/host"})
        self.assertEqual(os.path.dirname(path), "/run/host")
        self.assertNotEqual(path, _server.socket_path({"PLUGIN_UNIX_SOCKET_DIR": "/run/host"}))

    def test_health_request(self) -> None:
        self.assertEqual(_server._health_service(b"\x0a\x06plugin"), "plugin")
        self.assertEqual(_server._health_service(b""), "")

    def test_started_by_hand(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != _server.COOKIE_KEY}
        for script in ("percentile_calibrator.py", "npy_folder_dataset.py"):
            run = subprocess.run([sys.executable, os.path.join(EXAMPLES, script)], env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(run.returncode, 1, script)
            self.assertEqual(run.stdout, "", script)
            self.assertIn("not a program to run by hand", run.stderr)
            self.assertIn("calibrator plugin (pypercentile)" if "percentile" in script else "data set plugin (npyfolder)", run.stderr)
            self.assertIn("--plugin-dir", run.stderr)

    def test_wrong_version(self) -> None:
        env = dict(os.environ, INT8CAL_PLUGIN_COOKIE="int8cal-batchstream-5eed", PLUGIN_PROTOCOL_VERSIONS="1")
        run = subprocess.run([sys.executable, os.path.join(EXAMPLES, "npy_folder_dataset.py")], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 1)
        self.assertEqual(run.stdout, "")
        self.assertIn('"@level": "error"', run.stderr)
        self.assertIn("this plugin serves 2", run.stderr)


class OptionsTest(unittest.TestCase):
    def test_merge(self) -> None:
        declared = [Option("p", "99", "d"), Option("dir", "", "d")]
        self.assertEqual(merge("x", declared, {}), {"p": "99"})
        self.assertEqual(merge("x", declared, {"dir": "/d", "p": "1"}), {"p": "1", "dir": "/d"})
        with self.assertRaisesRegex(OptionError, r'^x: unknown option "q" \(options: p, dir\)$'):
            merge("x", declared, {"q": "1"})
        with self.assertRaisesRegex(OptionError, r"\(options: none\)"):
            merge("x", [], {"q": "1"})


class ReceiveTest(unittest.TestCase):
    def chunks(self) -> list[cpb.CalibrateChunk]:
        return [
            cpb.CalibrateChunk(header=cpb.TensorHeader(name="a", count=6, min=-2, max=3, histogram_range=4.0, histogram_bins=4)),
            cpb.CalibrateChunk(bins=cpb.BinCounts(counts=[1, 2])),
            cpb.CalibrateChunk(bins=cpb.BinCounts(counts=[3, 0])),
            cpb.CalibrateChunk(header=cpb.TensorHeader(name="b", count=0)),
        ]

    def test_assemble(self) -> None:
        a, b = receive(self.chunks(), Statistics.ABS_HISTOGRAM)
        assert a.histogram is not None
        self.assertEqual(a.histogram.counts.dtype, np.uint64)
        self.assertEqual(a.histogram.counts.tolist(), [1, 2, 3, 0])
        self.assertEqual((a.histogram.bin_width, a.max_abs, a.histogram.signed), (1.0, 3.0, False))
        self.assertEqual(a.histogram.edges.tolist(), [0, 1, 2, 3, 4])
        self.assertIsNone(b.histogram)

    def test_raw(self) -> None:
        (t,) = receive(
            [cpb.CalibrateChunk(header=cpb.TensorHeader(name="r", count=3, raw_count=3)), cpb.CalibrateChunk(values=cpb.RawValues(values=[1.5, -2, 0]))],
            Statistics.RAW,
        )
        assert t.values is not None
        self.assertEqual((t.values.dtype, t.values.tolist()), (np.float32, [1.5, -2, 0]))

    def test_short(self) -> None:
        with self.assertRaisesRegex(ValueError, "tensor 'a': 3 histogram counts received, 4 announced"):
            receive(self.chunks()[:2] + [cpb.CalibrateChunk(bins=cpb.BinCounts(counts=[1]))], Statistics.ABS_HISTOGRAM)
        with self.assertRaisesRegex(ValueError, "before a header"):
            receive([cpb.CalibrateChunk(bins=cpb.BinCounts(counts=[1]))], Statistics.ABS_HISTOGRAM)


META = Meta(samples=10, inputs=[Input("x", np.float32, (2,)), Input("m", np.bool_, (3,))], labels=True, classes=4)


class CheckedBatchTest(unittest.TestCase):
    def batch(self, **change: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
        arrays = {"x": np.zeros((2, 2), np.float32), "m": np.ones((2, 3), np.bool_)}
        arrays.update({k: v for k, v in change.items() if k != "labels"})
        return arrays, change.get("labels", np.array([0, 3]))

    def test_good(self) -> None:
        arrays, labels = checked_batch(META, 4, 2, self.batch())
        self.assertEqual([a.dtype for a in arrays], [np.float32, np.bool_])
        assert labels is not None
        self.assertEqual(labels.dtype, np.int32)

    def test_bad(self) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"x": np.zeros((2, 2))}, r"input 'x' is float64, declared float32 \(convert with .astype\)"),
            ({"x": np.zeros((2, 3), np.float32)}, r"input 'x' has shape \(2, 3\), want \(2, 2\)"),
            ({"labels": np.array([0, 4])}, r"label 4 outside \[0, 4\)"),
            ({"labels": np.array([0.5, 1])}, "want 2 integers"),
            ({"y": np.zeros((2, 1), np.float32)}, r"inputs \['y'\] that open did not declare"),
        ]
        for change, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(ValueError, message):
                checked_batch(META, 4, 2, self.batch(**change))

    def test_layout(self) -> None:
        # 3 samples: x is 24 bytes, m 9 bytes padded to 16, labels 12.
        self.assertEqual(slot_layout(META, 3), ([0, 24], 40, 52))


class Aborted(Exception):
    pass


class FakeContext:
    """The part of grpc.ServicerContext the servicers use."""

    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details
        raise Aborted(details)


class Ramp(Dataset):
    """Samples of one big float32 input (3 MiB a batch of 8) whose values
    are their indices, with labels."""

    name = "ramp"
    options = [Option("n", "20", "samples")]
    elements = 100_000

    def open(self, options: Mapping[str, str]) -> Meta:
        self.n = int(options["n"])
        return Meta(self.n, [Input("", np.float32, (self.elements,))], labels=True, classes=2)

    def read(self, first: int, count: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        values = np.arange(first * self.elements, (first + count) * self.elements, dtype=np.float32)
        return {"": values.reshape(count, self.elements)}, np.arange(first, first + count) % 2


class BatchesTest(unittest.TestCase):
    def test_chunks(self) -> None:
        s = _Servicer(Ramp(), None)
        ctx = FakeContext()
        resp = s.Open(dpb.OpenRequest(), ctx)
        self.assertFalse(resp.shared_memory)
        chunks = list(s.Batches(dpb.BatchesRequest(start=2, count=11, batch_size=8), ctx))
        got = bytearray()
        for c in chunks:
            self.assertLessEqual(len(c.data) + 4 * len(c.labels), CHUNK_BYTES)
            self.assertEqual(len(c.data) % 4, 0)
            self.assertEqual(bool(c.labels), c.offset == 0)
            got += c.data
        want = np.arange(2 * Ramp.elements, 13 * Ramp.elements, dtype="<f4").tobytes()
        self.assertEqual(bytes(got), want)
        self.assertEqual([list(c.labels) for c in chunks if c.labels], [[0, 1, 0, 1, 0, 1, 0, 1], [0, 1, 0]])
        self.assertEqual([(c.first, c.samples) for c in chunks if c.labels], [(2, 8), (10, 3)])

    def test_refusals(self) -> None:
        s = _Servicer(Ramp(), None)
        cases: list[tuple[Callable[[Any], object], grpc.StatusCode]] = [
            (lambda ctx: list(s.Batches(dpb.BatchesRequest(start=0, count=1, batch_size=1), ctx)), grpc.StatusCode.FAILED_PRECONDITION),
            (lambda ctx: s.Open(dpb.OpenRequest(options={"m": "1"}), ctx), grpc.StatusCode.INVALID_ARGUMENT),
            (lambda ctx: s.Open(dpb.OpenRequest(options={"n": "x"}), ctx), grpc.StatusCode.INVALID_ARGUMENT),
        ]
        for call, code in cases:
            ctx = FakeContext()
            with self.assertRaises(Aborted):
                call(ctx)
            self.assertEqual(ctx.code, code, ctx.details)
        s.Open(dpb.OpenRequest(), FakeContext())
        for req, code in [
            (dpb.BatchesRequest(start=15, count=6, batch_size=1), grpc.StatusCode.OUT_OF_RANGE),
            (dpb.BatchesRequest(start=0, count=1, batch_size=0), grpc.StatusCode.INVALID_ARGUMENT),
        ]:
            ctx = FakeContext()
            with self.assertRaises(Aborted):
                list(s.Batches(req, ctx))
            self.assertEqual(ctx.code, code, ctx.details)
            if code == grpc.StatusCode.OUT_OF_RANGE:
                self.assertEqual(ctx.details, "samples [15, 21) requested; the data set has 20")


class Broken(Calibrator):
    """A calibrator with a bug, and one answering with diagnostics."""

    name = "broken"
    algorithm = "Broken"

    def calibrate(self, tensors: list[TensorStats]) -> list[Range]:
        if tensors[0].name == "bug":
            return [Range(t.name, 1 / 0) for t in tensors]
        return [Range(t.name, 2.5, curve=np.array([3.0, 1.0, 2.0]), chosen=1) for t in tensors]


class CalibrateTest(unittest.TestCase):
    def call(self, name: str) -> tuple[FakeContext, object]:
        chunks = [cpb.CalibrateChunk(header=cpb.TensorHeader(name=name, count=1, min=-1, max=3, histogram_range=4, histogram_bins=1)),
                  cpb.CalibrateChunk(bins=cpb.BinCounts(counts=[1]))]
        ctx = FakeContext()
        try:
            return ctx, _CalibratorServicer(Broken()).Calibrate(iter(chunks), ctx)
        except Aborted:
            return ctx, None

    def test_diagnostics(self) -> None:
        _, resp = self.call("conv")
        assert isinstance(resp, cpb.CalibrateResponse)
        (r,) = resp.ranges
        self.assertEqual((r.name, r.amax, list(r.curve), r.chosen), ("conv", 2.5, [3.0, 1.0, 2.0], 1))

    def test_bug(self) -> None:
        ctx, _ = self.call("bug")
        self.assertEqual(ctx.code, grpc.StatusCode.UNKNOWN)
        self.assertRegex(ctx.details, r"^broken: Calibrate: ZeroDivisionError: division by zero \(at .*test_sdk.py:\d+; traceback in the log\)$")

    def test_bad_answers(self) -> None:
        stats = [TensorStats("a", 1, 0, 1)]
        for ranges, message in [
            ([], "returned 0 ranges for 1 tensors"),
            ([Range("b", 1)], "range for 'b' where tensor 'a' was expected"),
            ([Range("a", float("nan"))], "tensor 'a': amax nan is not finite"),
            ([Range("a", -1)], "tensor 'a': amax -1.0 is not finite and non-negative"),
        ]:
            with self.subTest(message=message), self.assertRaisesRegex(ValueError, message):
                ranges_message(stats, ranges)


class ServingTest(unittest.TestCase):
    """The example calibrator run as the host runs it, without the host:
    the handshake, go-plugin's services, the calibrator service over TLS,
    and the exit on Shutdown."""

    def start(self, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
        tmp = tempfile.mkdtemp(prefix="pysdk")
        self.addCleanup(shutil.rmtree, tmp, True)
        full = dict(os.environ, INT8CAL_PLUGIN_COOKIE="int8cal-calibrator-c0ffee", PLUGIN_PROTOCOL_VERSIONS="1", PLUGIN_UNIX_SOCKET_DIR=tmp, **env)
        proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "percentile_calibrator.py")], env=full, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        fields = _server.parse_handshake(proc.stdout.readline().decode())
        self.assertEqual((fields["core"], fields["version"], fields["network"], fields["protocol"]), ("1", "1", "unix", "grpc"))
        self.assertEqual(os.path.dirname(fields["address"]), tmp)
        self.assertEqual(os.stat(fields["address"]).st_mode & 0o777, 0o600)
        return proc, fields

    def test_services(self) -> None:
        proc, fields = self.start({})
        self.assertEqual(fields["cert"], "", "no certificate without PLUGIN_CLIENT_CERT")
        with grpc.insecure_channel("unix:" + fields["address"]) as ch:
            check = ch.unary_unary("/grpc.health.v1.Health/Check")
            self.assertEqual(check(b"\x0a\x06plugin", timeout=10), b"\x08\x01")  # SERVING
            with self.assertRaises(grpc.RpcError) as e:
                check(b"\x0a\x03xyz", timeout=10)
            self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)
            stdio = ch.unary_stream("/plugin.GRPCStdio/StreamStdio")(b"", timeout=10)
            self.assertTrue(stdio.running() or not stdio.done())
            start = time.monotonic()
            self.assertEqual(ch.unary_unary("/plugin.GRPCController/Shutdown")(b"", timeout=10), b"")
        proc.wait(timeout=5)
        self.assertLess(time.monotonic() - start, 1.0, "exit after Shutdown")
        self.assertEqual(proc.returncode, 0)
        self.assertFalse(os.path.exists(fields["address"]), "the socket is removed")

    def test_tls(self) -> None:
        client = _x509.generate()
        proc, fields = self.start({"PLUGIN_CLIENT_CERT": client.cert_pem.decode()})
        der = base64.b64decode(fields["cert"] + "=" * (-len(fields["cert"]) % 4))
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
        creds = grpc.ssl_channel_credentials(root_certificates=pem, private_key=client.key_pem, certificate_chain=client.cert_pem)
        with grpc.secure_channel("unix:" + fields["address"], creds, options=[("grpc.ssl_target_name_override", "localhost")]) as ch:
            info = ch.unary_unary("/int8cal.calibrator.v1.Calibrator/Info", response_deserializer=cpb.InfoResponse.FromString)(b"", timeout=10)
            self.assertEqual((info.name, info.algorithm, info.bins, info.options[0].name), ("pypercentile", "Percentile", 2048, "percentile"))
            configure = ch.unary_unary("/int8cal.calibrator.v1.Calibrator/Configure", request_serializer=cpb.ConfigureRequest.SerializeToString)
            with self.assertRaises(grpc.RpcError) as e:
                configure(cpb.ConfigureRequest(options={"q": "1"}), timeout=10)
            self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertEqual(e.exception.details(), 'pypercentile: unknown option "q" (options: percentile)')
            ch.unary_unary("/plugin.GRPCController/Shutdown")(b"", timeout=10)
        proc.wait(timeout=5)

    def test_tls_refuses_others(self) -> None:
        """Only the host's certificate (PLUGIN_CLIENT_CERT) gets in."""
        host, stranger = _x509.generate(), _x509.generate()
        proc, fields = self.start({"PLUGIN_CLIENT_CERT": host.cert_pem.decode()})
        der = base64.b64decode(fields["cert"] + "=" * (-len(fields["cert"]) % 4))
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
        for name, creds in [
            ("another certificate", grpc.ssl_channel_credentials(root_certificates=pem, private_key=stranger.key_pem, certificate_chain=stranger.cert_pem)),
            ("no certificate", grpc.ssl_channel_credentials(root_certificates=pem)),
        ]:
            with self.subTest(client=name), grpc.secure_channel("unix:" + fields["address"], creds, options=[("grpc.ssl_target_name_override", "localhost")]) as ch:
                with self.assertRaises(grpc.RpcError) as e:
                    ch.unary_unary("/int8cal.calibrator.v1.Calibrator/Info")(b"", timeout=5)
                self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)
        proc.kill()


if __name__ == "__main__":
    unittest.main()
